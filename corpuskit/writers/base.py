"""The Writer base class: roll output files at N documents or bytes, each written atomically."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from corpuskit.document import Document
from corpuskit.files import write_json_atomic
from corpuskit.writers.chunking import ChunkSpec, ChunkStream

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(value: int | str | None) -> int | None:
    """'100MB' or '1.5 GiB' or 1000 -> bytes (binary units); None stays None."""
    if value is None or isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (examples: 1000, '64KB', '100MB', '2GB')")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


class Writer(ABC):
    """Writes a document stream as files `<prefix>-<n>.<ext>` in a directory.

    A new file starts after `max_docs` documents or `max_bytes` (uncompressed) bytes. Each file
    is written to a temporary name and renamed when complete, so a crash never leaves a partial
    file under a final name. Memory: one document, plus one batch for Parquet.

    `chunk` ({window, stride, unit}) writes long documents as overlapping chunks (see
    `corpuskit.writers.chunking`); each file's entry then counts `documents` (those whose first
    record is in it) and `chunks` (its records), and `max_docs` counts records.
    """

    name: ClassVar[str] = "writer"
    extension: ClassVar[str] = ""

    def __init__(self, max_docs: int | None = None, max_bytes: int | str | None = None, chunk: dict[str, Any] | None = None) -> None:
        if max_docs is not None and max_docs < 1:
            raise ValueError(f"max_docs must be at least 1 document per file, not {max_docs}")
        try:
            self.max_bytes = parse_size(max_bytes)
        except ValueError as exc:
            raise ValueError(f"max_bytes: {exc}") from None
        if self.max_bytes is not None and self.max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive size, not {max_bytes!r}")
        self.max_docs = max_docs
        self.chunk = chunk
        self.chunk_spec = ChunkSpec.parse(chunk) if chunk is not None else None

    def write_all(self, docs: Iterable[Document], directory: str | Path, prefix: str) -> list[dict[str, Any]]:
        """Consume `docs`, write them, return [{'path', 'documents', 'bytes'}] for each file.

        `path` is relative to `directory`. No document means no file. With `chunk`, each entry
        also has `chunks` (records) and `documents` counts the documents that start in the file.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files: list[dict[str, Any]] = []
        stream = ChunkStream(docs, self.chunk_spec) if self.chunk_spec is not None else None
        iterator = iter(stream if stream is not None else docs)
        pending = next(iterator, None)
        started = 0
        while pending is not None:
            name = f"{prefix}-{len(files):04d}{self.extension}"
            count, size, pending = self._write_file(pending, iterator, directory / name)
            entry = {"path": name, "documents": count, "bytes": os.path.getsize(directory / name), "text_bytes": size}
            if stream is not None:
                # the stream has yielded `pending` already: it belongs to the next file
                written = stream.documents_started - (pending is not None and stream.last_starts)
                entry["documents"], entry["chunks"] = written - started, count
                started = written
            files.append(entry)
        return files

    def _full(self, count: int, size: int) -> bool:
        return (self.max_docs is not None and count >= self.max_docs) or (self.max_bytes is not None and size >= self.max_bytes)

    @abstractmethod
    def _write_file(self, first: Document, rest: Any, path: Path) -> tuple[int, int, Document | None]:
        """Write `first` and documents from `rest` into `path` until full.

        Returns (documents written, uncompressed bytes, the next unwritten document or None).
        """


def write_manifest(directory: str | Path, files: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    """Write `directory/manifest.json` listing the output files; readers expand a directory by it."""
    manifest = {
        "format": "corpuskit.manifest/1",
        "documents": sum(f["documents"] for f in files),
        **({"chunks": sum(f.get("chunks", f["documents"]) for f in files)} if any("chunks" in f for f in files) else {}),
        "files": files,
        **(extra or {}),
    }
    write_json_atomic(Path(directory) / "manifest.json", manifest)
