"""Sharded Parquet writer (pyarrow): columns id, text, metadata (a JSON string)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from corpuskit.document import CorpusError, Document
from corpuskit.files import atomic_write
from corpuskit.writers.base import Writer


class ParquetWriter(Writer):
    """Writes row groups of `batch_size` documents; metadata is stored as JSON text so that
    documents with different metadata keys share one schema.

    Arrow strings must be valid UTF-8, so no value of one record can abort a run: lone
    surrogates (invalid input bytes kept by the readers) become U+FFFD in the text, a `\\udcxx`
    escape in the id, and JSON escapes in the metadata (lossless, as the JSONL writer does).
    """

    name = "parquet"
    extension = ".parquet"

    def __init__(
        self,
        max_docs: int | None = None,
        max_bytes: int | str | None = None,
        batch_size: int = 1000,
        compression: str = "zstd",
        chunk: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(max_docs=max_docs, max_bytes=max_bytes, chunk=chunk)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self.batch_size = batch_size
        self.compression = compression

    def _write_file(self, first: Document, rest: Any, path: Path) -> tuple[int, int, Document | None]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("metadata", pa.string())])
        count = size = 0
        doc: Document | None = first
        with atomic_write(path, "wb") as raw:
            with pq.ParquetWriter(raw, schema, compression=self.compression) as out:
                batch: dict[str, list[str]] = {"id": [], "text": [], "metadata": []}
                while doc is not None:
                    text = doc.text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                    batch["id"].append(storable_id(doc.id))
                    batch["text"].append(text)
                    batch["metadata"].append(metadata_json(doc))
                    count += 1
                    size += len(text.encode("utf-8"))
                    doc = next(rest, None)
                    if len(batch["id"]) >= self.batch_size:
                        out.write_table(pa.table(batch, schema=schema))
                        batch = {"id": [], "text": [], "metadata": []}
                    if self._full(count, size):
                        break
                if batch["id"]:
                    out.write_table(pa.table(batch, schema=schema))
        return count, size, doc


def storable_id(value: str) -> str:
    """The id as valid UTF-8: lone surrogates written as backslash escapes ('a\\udce9')."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def metadata_json(doc: Document) -> str:
    """Metadata as JSON text; strings with lone surrogates are \\u-escaped (read back unchanged).

    A value JSON cannot hold (a set, bytes, an object) is an error naming the record and key.
    """
    try:
        text = json.dumps(doc.metadata, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        bad = next((k for k, v in doc.metadata.items() if not _jsonable(v)), "?")
        raise CorpusError(f"{doc.metadata.get('location', doc.id)}: metadata {bad!r} cannot be written as JSON ({exc})") from exc
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return json.dumps(doc.metadata, ensure_ascii=True)


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
