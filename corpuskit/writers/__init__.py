"""Writers: sharded, atomically written JSONL (.gz/.zst) and Parquet output with a manifest."""

from corpuskit.writers.base import Writer, write_manifest

__all__ = ["Writer", "write_manifest"]
