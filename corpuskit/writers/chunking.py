"""Long documents as overlapping chunks: the `chunk` option of every writer.

`chunk: {window: N, stride: M, unit: chars|tokens}` cuts a document longer than `window` units
into records starting every `stride` units, each `window` long (the last one ends at the
document's end), so consecutive chunks overlap by `window - stride` units. Tokens are
whitespace-separated words (the core imports no tokenizer); a token chunk is the original text
from its first word's start to its last word's end. A document of at most `window` units is
written untouched. Chunk k of document `d` has id `d#k` and the document's metadata plus
`chunk_of` (`d`), `chunk_index` (k) and `chunk_start` / `chunk_end` (character offsets in the
document's text). Memory: one document and its word offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from corpuskit.document import Document

_WORD = re.compile(r"\S+")
UNITS = ("chars", "tokens")


@dataclass(frozen=True)
class ChunkSpec:
    window: int
    stride: int
    unit: str = "chars"

    @classmethod
    def parse(cls, options: dict[str, Any]) -> "ChunkSpec":
        """Check a writer's `chunk` mapping: window >= 1, 1 <= stride <= window, unit chars|tokens."""
        if not isinstance(options, dict):
            raise ValueError(f"chunk must be a mapping {{window, stride, unit}}, not {options!r}")
        unknown = set(options) - {"window", "stride", "unit"}
        if unknown:
            raise ValueError(f"chunk: unknown key(s) {', '.join(sorted(unknown))}; expected window, stride, unit")
        window = options.get("window")
        stride = options.get("stride", window)
        unit = options.get("unit", "chars")
        for key, value in (("window", window), ("stride", stride)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"chunk: {key} must be an integer >= 1, not {value!r}")
        if stride > window:
            raise ValueError(f"chunk: stride {stride} > window {window} would skip text between chunks")
        if unit not in UNITS:
            raise ValueError(f"chunk: unit must be 'chars' or 'tokens', not {unit!r}")
        return cls(window, stride, unit)


def chunk_ranges(length: int, window: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) of the chunks of `length` units: 10, 4, 3 -> (0,4) (3,7) (6,10); 4, 4, 3 -> (0,4)."""
    if length <= window:
        return [(0, length)]
    ranges = []
    start = 0
    while True:
        end = min(start + window, length)
        ranges.append((start, end))
        if end == length:
            return ranges
        start += stride


def chunk_document(doc: Document, spec: ChunkSpec) -> list[Document]:
    """The records `doc` is written as: itself when short, else its chunks (see the module)."""
    if spec.unit == "chars":
        if len(doc.text) <= spec.window:
            return [doc]
        offsets = chunk_ranges(len(doc.text), spec.window, spec.stride)
    else:
        words = [(m.start(), m.end()) for m in _WORD.finditer(doc.text)]
        if len(words) <= spec.window:
            return [doc]
        offsets = [(words[a][0], words[b - 1][1]) for a, b in chunk_ranges(len(words), spec.window, spec.stride)]
    return [
        Document(f"{doc.id}#{k}", doc.text[start:end], {**doc.metadata, "chunk_of": doc.id, "chunk_index": k, "chunk_start": start, "chunk_end": end})
        for k, (start, end) in enumerate(offsets)
    ]


class ChunkStream:
    """The records of a document stream, counting the documents they came from.

    `documents_started` counts documents whose first record has been yielded; `last_starts`
    says whether the record yielded last was a document's first (so a writer that read one
    record ahead can tell which file the document belongs to: the file of its first record).
    """

    def __init__(self, docs: Iterable[Document], spec: ChunkSpec) -> None:
        self.docs = docs
        self.spec = spec
        self.documents_started = 0
        self.last_starts = False

    def __iter__(self) -> Iterator[Document]:
        for doc in self.docs:
            for k, record in enumerate(chunk_document(doc, self.spec)):
                self.last_starts = k == 0
                self.documents_started += k == 0
                yield record
