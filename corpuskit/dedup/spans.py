"""Exact dedup below the document: lines, paragraphs or C4's three-sentence spans.

Every occurrence of a span after its first in corpus order (earlier shard, earlier document,
earlier span) is removed from its document; a document left without text is dropped.

Map → reduce: a shard's map writes, per span, a 128-bit hash of its normalised text (lower-cased,
whitespace collapsed) with the span's (document position, span index); a reduce task per hash
range sorts its rows by (hash, corpus order) and marks every row after the first of its hash,
writing the marks per shard; a decide task per shard gathers its marks into one decisions file;
`process` removes the marked spans, naming documents by position as the document dedup does
(see `corpuskit.dedup.decisions`).
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np

from corpuskit.dedup.decisions import IdWriter, gids, read_ids
from corpuskit.dedup.exact import normalise_for_exact, text_hash
from corpuskit.document import CorpusError, Document, Drop
from corpuskit.files import write_json_atomic
from corpuskit.filters.text_stats import split_sentences
from corpuskit.steps import GlobalStep, GlobalWork, ReduceTask, StepStateError

SPANS_FORMAT = "corpuskit.span-decisions/1"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")


def line_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each line, newline excluded: 'a\\nb' -> (0, 1), (2, 3)."""
    spans, start = [], 0
    for match in re.finditer("\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each paragraph: text between runs of blank lines."""
    spans, start = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def three_sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of consecutive groups of three sentences (C4); a trailing group of fewer
    than three sentences is a span too, but it can only repeat an equally short ending."""
    bounds, cursor = [], 0
    sentences = split_sentences(text)
    for index, sentence in enumerate(sentences):
        start = text.find(sentence, cursor)
        if start < 0:  # the last sentence took trailing punctuation with a space added: it runs to the end
            start = len(text) - len(text[cursor:].lstrip())
            bounds.append((start, len(text.rstrip())))
            break
        bounds.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return [(group[0][0], group[-1][1]) for group in (bounds[i : i + 3] for i in range(0, len(bounds), 3))]


SPLITTERS = {"line": line_spans, "paragraph": paragraph_spans, "three_sentences": three_sentence_spans}


def remove_spans(text: str, spans: list[tuple[int, int]], remove: set[int]) -> str:
    """`text` without the spans in `remove`, each taken out with the separator that follows it
    (the one before it, for the last span), so what stays keeps its own spacing."""
    keep = [i for i in range(len(spans)) if i not in remove]
    if not keep:
        return ""
    pieces = [text[: spans[0][0]]]
    for n, i in enumerate(keep):
        start, end = spans[i]
        pieces.append(text[start:end])
        if n + 1 < len(keep):
            pieces.append(text[end : spans[i + 1][0]])  # the separator after this span
    pieces.append(text[spans[-1][1] :])
    return "".join(pieces)


class SpanDedup(GlobalStep):
    """Remove spans (`span`: line, paragraph, three_sentences) seen earlier in the corpus.

    Spans whose normalised text is shorter than `min_chars` (blank lines by default) are never
    removed. Drop reason of a document left without text: "only_duplicate_spans". Counters:
    "spans_removed", "documents_changed"; the reduce adds "duplicate_spans".
    Memory: map, 28 bytes a span of its shard; a reduce task, ~40 bytes a span of its hash range
    (`part_rows()` spans on average); decide and a worker, the shard's removed spans.
    """

    name = "span_dedup"

    def __init__(self, span: Literal["line", "paragraph", "three_sentences"] = "line", min_chars: int = 1, lowercase: bool = True) -> None:
        if span not in SPLITTERS:
            raise ValueError(f"{self.name}: span must be one of {', '.join(SPLITTERS)}, not {span!r}")
        if min_chars < 1:
            raise ValueError(f"{self.name}: min_chars must be >= 1, not {min_chars}")
        self.span = span
        self.min_chars = min_chars
        self.lowercase = lowercase
        self.remove: dict[int, tuple[str, set[int]]] | None = None
        self.documents = 0
        self._position = 0

    @classmethod
    def part_rows(cls) -> int:
        return 4_000_000

    def spans(self, text: str) -> list[tuple[int, int]]:
        return SPLITTERS[self.span](text)

    def map(self, docs: Iterable[Document], out: Path) -> None:
        digests, positions, indices = bytearray(), array("q"), array("i")
        ids = IdWriter(out)
        try:
            for position, doc in enumerate(docs):
                ids.add(doc.id)
                for index, (start, end) in enumerate(self.spans(doc.text)):
                    key = normalise_for_exact(doc.text[start:end], lowercase=self.lowercase)
                    if len(key) >= self.min_chars:
                        digests += text_hash(key)
                        positions.append(position)
                        indices.append(index)
        finally:
            ids.close()
        np.save(out / "hashes.npy", np.frombuffer(bytes(digests), dtype="<u8").reshape(-1, 2))
        np.save(out / "positions.npy", np.asarray(positions, dtype=np.int64))
        np.save(out / "spans.npy", np.asarray(indices, dtype=np.int32))

    def reduce_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        total = sum(int(np.load(work.map_dir(s) / "positions.npy", mmap_mode="r").shape[0]) for s in range(work.n_shards))
        parts = max(1, math.ceil(total / self.part_rows()))
        ranges = [ReduceTask(f"hash-{part:04d}", "hash_range", {"part": part, "parts": parts}) for part in range(parts)]
        sources = [task.name for task in ranges]
        decide = [ReduceTask(f"decide-{shard:05d}", "decide", {"shard": shard, "sources": sources}) for shard in range(work.n_shards)]
        return [ranges, decide]

    def reduce(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        if task.kind == "decide":
            return self._decide(work, task.params["shard"], task.params["sources"], out)
        return self._hash_range(work, task.params["part"], task.params["parts"], out)

    def _hash_range(self, work: GlobalWork, part: int, parts: int, out: Path) -> dict[str, int]:
        """Within one hash range: every span after the first of its hash is marked."""
        high, low, gid, index = [], [], [], []
        for shard in range(work.n_shards):
            hashes = np.load(work.map_dir(shard) / "hashes.npy", mmap_mode="r")
            rows = np.flatnonzero(hashes[:, 0] % np.uint64(parts) == np.uint64(part))
            high.append(hashes[rows, 0])
            low.append(hashes[rows, 1])
            gid.append(gids(shard, np.load(work.map_dir(shard) / "positions.npy")[rows]))
            index.append(np.load(work.map_dir(shard) / "spans.npy")[rows])
        high_all, low_all, gid_all, index_all = (np.concatenate(x) for x in (high, low, gid, index))
        order = np.lexsort((index_all, gid_all, low_all, high_all))  # by hash, then corpus order
        high_all, low_all, gid_all, index_all = high_all[order], low_all[order], gid_all[order], index_all[order]
        later = np.zeros(len(order), dtype=bool)
        later[1:] = (high_all[1:] == high_all[:-1]) & (low_all[1:] == low_all[:-1])
        shards = gid_all[later] >> np.int64(40)
        for shard in np.unique(shards):
            rows = shards == shard
            marked = np.stack([gid_all[later][rows] & np.int64((1 << 40) - 1), index_all[later][rows].astype(np.int64)], axis=1)
            np.save(out / f"marks-{int(shard):05d}.npy", marked)
        return {"duplicate_spans": int(later.sum())}

    def _decide(self, work: GlobalWork, shard: int, sources: list[str], out: Path) -> dict[str, int]:
        """One shard's marks as {position: span indices}, with each changed document's id."""
        parts = [np.load(p) for name in sources if (p := work.task_dir(name) / f"marks-{shard:05d}.npy").exists()]
        marks = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
        marks = marks[np.lexsort((marks[:, 1], marks[:, 0]))]
        ids = read_ids(work.map_dir(shard))
        positions, starts = np.unique(marks[:, 0], return_index=True)
        groups = np.split(marks[:, 1], starts[1:]) if len(marks) else []
        write_json_atomic(out / "decisions.json", {
            "format": SPANS_FORMAT,
            "shard": shard,
            "documents": len(ids),
            "positions": positions.tolist(),
            "ids": [ids[int(p)] for p in positions],
            "spans": [group.tolist() for group in groups],
        })
        return {}

    def load_shard_state(self, work: GlobalWork, shard: int) -> None:
        path = work.task_dir(f"decide-{shard:05d}") / "decisions.json"
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorpusError(f"{path}: no span decisions for this shard; run the step's map and reduce first") from None
        if not isinstance(state, dict) or state.get("format") != SPANS_FORMAT:
            raise CorpusError(f"{path}: expected a {SPANS_FORMAT} file")
        self.path = path
        self.documents = state["documents"]
        self.remove = {p: (i, set(s)) for p, i, s in zip(state["positions"], state["ids"], state["spans"])}
        self._position = 0

    def process(self, doc: Document) -> Document | Drop:
        if self.remove is None:
            raise CorpusError(f"{self.name}: no decisions loaded; run fit() or the pipeline's map and reduce first")
        position = self._position
        self._position += 1
        decided = self.remove.get(position)
        if position >= self.documents or (decided is not None and decided[0] != doc.id):
            raise StepStateError(
                f"{self.path}: document {position} of this shard is {doc.id!r}, but the decisions were made for "
                f"{decided[0] if decided else 'fewer documents'!r}; the step's input changed since its map ran (rerun with --overwrite)"
            )
        if decided is None:
            return doc
        spans = self.spans(doc.text)
        if max(decided[1]) >= len(spans):
            raise StepStateError(f"{self.path}: document {doc.id!r} has {len(spans)} spans, but span {max(decided[1])} was marked; rerun with --overwrite")
        self.count("spans_removed", len(decided[1]))
        self.count("documents_changed")
        text = remove_spans(doc.text, spans, decided[1])
        if not text.strip():
            return Drop("only_duplicate_spans")
        return Document(doc.id, text, doc.metadata)


class LineDedup(SpanDedup):
    """`line_dedup`: lines (default) or, with `span: three_sentences`, C4's three-sentence spans."""

    name = "line_dedup"

    def __init__(self, span: Literal["line", "three_sentences"] = "line", min_chars: int = 1, lowercase: bool = True) -> None:
        if span not in ("line", "three_sentences"):
            raise ValueError(f"line_dedup: span must be 'line' or 'three_sentences', not {span!r}")
        super().__init__(span=span, min_chars=min_chars, lowercase=lowercase)


class ParagraphDedup(SpanDedup):
    """`paragraph_dedup`: paragraphs, the text between blank lines (Dolma, FineWeb-style)."""

    name = "paragraph_dedup"

    def __init__(self, min_chars: int = 1, lowercase: bool = True) -> None:
        super().__init__(span="paragraph", min_chars=min_chars, lowercase=lowercase)
