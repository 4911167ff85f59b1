"""Corpus mixing: sampling languages by temperature (`mix`)."""
