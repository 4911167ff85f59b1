"""Sharded JSON Lines writer, plain, gzip or zstandard."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import IO, Any, Literal

from corpuskit.document import CorpusError, Document
from corpuskit.files import atomic_write
from corpuskit.writers.base import Writer


def encode_record(doc: Document) -> bytes:
    """One JSON line as UTF-8. Text holding lone surrogates (invalid input kept as-is) is written
    with \\u escapes instead, which is still valid JSON and loses nothing."""
    record = {"id": doc.id, "text": doc.text, "metadata": doc.metadata}
    try:
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")
    except (TypeError, ValueError) as exc:  # a step stored a value JSON cannot hold
        raise CorpusError(f"{doc.metadata.get('location', doc.id)}: record {doc.id!r} cannot be written as JSON ({exc})") from exc


class JsonlWriter(Writer):
    """Writes `{"id", "text", "metadata"}` per line; `compression` is 'gz', 'zst' or 'none'."""

    name = "jsonl"

    def __init__(
        self,
        compression: Literal["gz", "zst", "none"] = "gz",
        max_docs: int | None = None,
        max_bytes: int | str | None = None,
        chunk: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(max_docs=max_docs, max_bytes=max_bytes, chunk=chunk)
        if compression not in ("gz", "zst", "none"):
            raise ValueError(f"compression must be 'gz', 'zst' or 'none', not {compression!r}")
        self.compression = compression
        self.extension = ".jsonl" + {"gz": ".gz", "zst": ".zst", "none": ""}[compression]

    def _write_file(self, first: Document, rest: Any, path: Path) -> tuple[int, int, Document | None]:
        count = size = 0
        doc: Document | None = first
        with atomic_write(path, "wb") as raw:
            with self._compressor(raw) as out:
                while doc is not None:
                    line = encode_record(doc)
                    out.write(line)
                    count += 1
                    size += len(line)
                    doc = next(rest, None)
                    if self._full(count, size):
                        break
        return count, size, doc

    def _compressor(self, raw: IO[bytes]) -> IO[bytes]:
        if self.compression == "gz":
            return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)
        if self.compression == "zst":
            import zstandard

            return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
        return _Uncloseable(raw)


class _Uncloseable:
    """Lets the plain-file case use the same `with` as the compressors without closing the file."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def write(self, data: bytes) -> int:
        return self.raw.write(data)

    def __enter__(self) -> "_Uncloseable":
        return self

    def __exit__(self, *exc: object) -> None:
        return None
