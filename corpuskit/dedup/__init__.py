"""Exact and near-duplicate removal."""
