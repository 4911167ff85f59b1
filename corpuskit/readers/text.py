"""Plain-text reader: one document per line, or per blank-line-separated block."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from corpuskit.document import Document, Rejected
from corpuskit.readers.base import Reader
from corpuskit.readers.lines import numbered_lines


class TextReader(Reader):
    """Reads `.txt` files. `mode='line'`: a document per non-blank line; `mode='paragraph'`:
    a document per block of lines separated by blank lines. Ids are `<file name>:<first line>`.
    Memory: one document.
    """

    name = "text"
    suffixes = (".txt", ".cor")

    def __init__(self, mode: Literal["line", "paragraph"] = "line") -> None:
        if mode not in ("line", "paragraph"):
            raise ValueError(f"text reader mode must be 'line' or 'paragraph', not {mode!r}")
        self.mode = mode

    def read(self, path: str) -> Iterator[Document | Rejected]:
        stem = Path(path).name
        block: list[str] = []
        start = 0
        for item in numbered_lines(path):
            if isinstance(item, Rejected):
                if block:
                    yield self._document(stem, path, start, block)
                yield item
                return
            lineno, line = item
            if self.mode == "line":
                if line.strip():
                    yield self._document(stem, path, lineno, [line])
                continue
            if line.strip():
                if not block:
                    start = lineno
                block.append(line)
            elif block:
                yield self._document(stem, path, start, block)
                block = []
        if block:
            yield self._document(stem, path, start, block)

    def texts(self, path: str) -> Iterator[str | Rejected]:
        """The texts alone; in line mode without building Documents (trainers read this way)."""
        if self.mode != "line":
            yield from super().texts(path)
            return
        for item in numbered_lines(path):
            if isinstance(item, Rejected):
                yield item
            elif item[1].strip():
                yield item[1]

    @staticmethod
    def _document(stem: str, path: str, lineno: int, lines: list[str]) -> Document:
        return Document(id=f"{stem}:{lineno}", text="\n".join(lines), metadata={"location": f"{path}:{lineno}"})
