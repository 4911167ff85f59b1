"""Readers turn files into streams of Documents (or Rejected records), in constant memory.

`read_corpus` and `iter_texts` are the entry points plugins use to train from any input the
core can read: text, JSONL, Parquet, WARC/WET, wiki dumps, and pipeline output directories.
"""

from corpuskit.readers.base import Reader, iter_texts, read_corpus, reader_for

__all__ = ["Reader", "iter_texts", "read_corpus", "reader_for"]
