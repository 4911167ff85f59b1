"""Count n-grams over a streamed corpus the way KenLM's lmplz does, within a memory budget.

The unit counted is the *maximal n-gram* of each token: the `order` words ending there, cut at
`<s>` (lmplz pads with `<s>` and drops n-grams with `<s>` past their first word; same thing).
Every shorter n-gram's count follows from these (it ends exactly one of them), so a count table
is all an estimator needs, and tables from different machines merge by adding counts.

Memory: the hash table grows with distinct maximal n-grams (about 4*order+24 bytes each); past
`memory_mb` it is sorted and spilled to a run file on disk, and runs are merged at the end
streaming from memory-mapped files. The merged table (and the model built from it) is in memory.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.files import atomic_write
from corpuskit.lm.ngram.vocab import SPECIALS, Vocabulary

log = logging.getLogger(__name__)

COUNTS_FORMAT = "corpuskit.ngram-counts/1"


@dataclass
class NGramCounts:
    """Counts of maximal n-grams: `rows[i]` (right-aligned word ids, -1 padded) seen `counts[i]` times.

    `words[i]` is the word of id i; ids 0, 1, 2 are `<unk>`, `<s>`, `</s>`. Rows are unique.
    """

    order: int
    words: list[str]
    rows: np.ndarray  # (n, order) int32
    counts: np.ndarray  # (n,) int64
    tokens: int = 0  # words counted (without <s>/</s>)
    sentences: int = 0

    def __post_init__(self) -> None:
        if self.order < 1:
            raise ValueError(f"order must be >= 1, got {self.order}")

    def save(self, path: str | Path) -> None:
        """Write an .npz (rows, counts) with the vocabulary and totals as JSON inside; no pickle."""
        meta = {"format": COUNTS_FORMAT, "order": self.order, "words": self.words, "tokens": self.tokens, "sentences": self.sentences}
        with atomic_write(path, "wb") as handle:
            np.savez(handle, rows=self.rows, counts=self.counts, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))

    @classmethod
    def load(cls, path: str | Path) -> "NGramCounts":
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != COUNTS_FORMAT:
                raise CorpusError(f"{path}: not an n-gram counts file (format {meta.get('format')!r})")
            return cls(meta["order"], meta["words"], data["rows"], data["counts"], meta["tokens"], meta["sentences"])

    def unigram_counts(self) -> np.ndarray:
        """How often each word id occurs (as the last word of a maximal n-gram: every occurrence)."""
        return np.bincount(self.rows[:, -1], weights=self.counts, minlength=len(self.words)).astype(np.int64)

    def merge(self, other: "NGramCounts") -> "NGramCounts":
        """Counts of both corpora (e.g. two shards counted on different machines)."""
        if other.order != self.order:
            raise ValueError(f"cannot merge counts of order {self.order} and {other.order}")
        vocab = Vocabulary(self.words[3:])
        remap = np.asarray([vocab.add(w) for w in other.words], dtype=np.int32)
        other_rows = np.where(other.rows < 0, -1, remap[np.maximum(other.rows, 0)]).astype(np.int32)
        rows, counts = aggregate(np.concatenate([self.rows, other_rows]), np.concatenate([self.counts, other.counts]))
        return NGramCounts(self.order, vocab.words, rows, counts, self.tokens + other.tokens, self.sentences + other.sentences)

    def restrict_vocabulary(self, min_count: int = 1, vocabulary: Sequence[str] | None = None) -> "NGramCounts":
        """Map words outside `vocabulary` (or seen fewer than `min_count` times) to `<unk>`.

        Memory: O(rows). The result's ids are renumbered so that kept words keep their order.
        """
        freq = self.unigram_counts()
        if vocabulary is not None:
            allowed = set(vocabulary)
            keep = np.asarray([w in allowed for w in self.words], dtype=bool)
        else:
            keep = freq >= min_count
        keep[: len(SPECIALS)] = True
        if keep.all():
            return self
        remap = np.cumsum(keep, dtype=np.int64) - 1
        remap[~keep] = 0
        remap = remap.astype(np.int32)
        words = [w for w, k in zip(self.words, keep) if k]
        rows = np.where(self.rows < 0, -1, remap[np.maximum(self.rows, 0)]).astype(np.int32)
        rows, counts = aggregate(rows, self.counts)
        log.info("vocabulary restricted to %d of %d words", len(words), len(self.words))
        return NGramCounts(self.order, words, rows, counts, self.tokens, self.sentences)


def sort_rows(rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows in lexicographic order (first word most significant) with their counts."""
    perm = np.lexsort(rows.T[::-1])
    return rows[perm], counts[perm]


def aggregate(rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows and sum the counts of equal ones."""
    if rows.shape[0] == 0:
        return rows, counts
    rows, counts = sort_rows(rows, counts)
    starts = np.flatnonzero(np.concatenate([[True], (rows[1:] != rows[:-1]).any(axis=1)]))
    return np.ascontiguousarray(rows[starts]), np.add.reduceat(counts, starts).astype(np.int64)


def _chunks(texts: Iterable[str], chunk_lines: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) >= chunk_lines:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _RowCounter:
    """The growing hash table of `count_ngrams`, with spilling of sorted runs to `spill_dir`."""

    def __init__(self, order: int, memory_bytes: int, spill_dir: Path | None) -> None:
        self.order = order
        self.memory_bytes = memory_bytes
        self.spill_dir = spill_dir
        self.runs: list[Path] = []
        self._reset(1 << 16)

    def _reset(self, capacity: int) -> None:
        self.n_rows = 0
        self.rows = np.empty((capacity // 2, self.order), dtype=np.int32)
        self.counts = np.empty(capacity // 2, dtype=np.int64)
        self.table = np.full(capacity, -1, dtype=np.int64)

    def bytes_used(self) -> int:
        return self.rows.nbytes + self.counts.nbytes + self.table.nbytes

    def add(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        """Count one chunk of sentences, spilling first if the table would outgrow the budget."""
        from corpuskit.lm.ngram import kernels

        incoming = int(lengths.sum()) + len(lengths)  # at most one new row per token
        if self.n_rows and (self.n_rows + incoming) * (4 * self.order + 40) > self.memory_bytes:
            self.spill()
        capacity = self.table.shape[0]
        while 2 * (self.n_rows + incoming) > capacity:
            capacity *= 2
        if capacity != self.table.shape[0]:
            grown_rows = np.empty((capacity // 2, self.order), dtype=np.int32)
            grown_counts = np.empty(capacity // 2, dtype=np.int64)
            grown_rows[: self.n_rows] = self.rows[: self.n_rows]
            grown_counts[: self.n_rows] = self.counts[: self.n_rows]
            self.rows, self.counts = grown_rows, grown_counts
            self.table = kernels.rehash_rows(self.rows, self.n_rows, capacity)
        self.n_rows = kernels.count_rows(ids, lengths, self.order, self.table, self.rows, self.counts, self.n_rows)

    def spill(self) -> None:
        """Write the table as a sorted run and start an empty one."""
        if self.spill_dir is None:
            self.spill_dir = Path(tempfile.mkdtemp(prefix="corpuskit-ngram-"))
        rows, counts = sort_rows(self.rows[: self.n_rows], self.counts[: self.n_rows])
        path = self.spill_dir / f"run{len(self.runs):05d}"
        np.save(f"{path}.rows.npy", rows)
        np.save(f"{path}.counts.npy", counts)
        self.runs.append(path)
        log.info("spilled %d n-grams to %s", self.n_rows, path)
        self._reset(1 << 16)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.runs:  # unique already; the estimator needs no order. Copies free the spare capacity.
            return self.rows[: self.n_rows].copy(), self.counts[: self.n_rows].copy()
        if self.n_rows:
            self.spill()
        return merge_runs(self.runs)


def merge_runs(runs: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted run files pairwise (memory-mapped inputs, outputs on disk until the last)."""
    from corpuskit.lm.ngram import kernels

    runs = list(runs)
    generation = 0
    while len(runs) > 1:
        merged: list[Path] = []
        for i in range(0, len(runs) - 1, 2):
            a_rows = np.load(f"{runs[i]}.rows.npy", mmap_mode="r")
            b_rows = np.load(f"{runs[i + 1]}.rows.npy", mmap_mode="r")
            a_counts = np.load(f"{runs[i]}.counts.npy", mmap_mode="r")
            b_counts = np.load(f"{runs[i + 1]}.counts.npy", mmap_mode="r")
            out = runs[i].with_name(f"merge{generation}-{i:05d}")
            total = a_rows.shape[0] + b_rows.shape[0]
            out_rows = np.lib.format.open_memmap(f"{out}.rows.npy", mode="w+", dtype=np.int32, shape=(total, a_rows.shape[1]))
            out_counts = np.lib.format.open_memmap(f"{out}.counts.npy", mode="w+", dtype=np.int64, shape=(total,))
            n = kernels.merge_sorted_rows(a_rows, a_counts, b_rows, b_counts, out_rows, out_counts)
            np.save(f"{out}.rows.npy", np.array(out_rows[:n]))
            np.save(f"{out}.counts.npy", np.array(out_counts[:n]))
            del out_rows, out_counts
            merged.append(out)
        if len(runs) % 2:
            merged.append(runs[-1])
        runs = merged
        generation += 1
    return np.load(f"{runs[0]}.rows.npy"), np.load(f"{runs[0]}.counts.npy")


def count_ngrams(
    texts: Iterable[str],
    order: int,
    memory_mb: float = 2048,
    spill_dir: str | Path | None = None,
    chunk_lines: int = 20_000,
    progress: bool = False,
) -> NGramCounts:
    """Count the maximal n-grams of `texts` (one sentence per text, words split on ASCII spaces).

    The corpus is read once. Memory: O(distinct maximal n-grams) up to `memory_mb`, then sorted
    runs spill to `spill_dir` (a temporary folder by default) and are merged at the end.
    `<s>`, `</s>` and `<unk>` inside the text are skipped like whitespace, as lmplz does.
    """
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    vocab = Vocabulary()
    own_dir = spill_dir is None
    counter = _RowCounter(order, int(memory_mb * 2**20), Path(spill_dir) if spill_dir else None)
    tokens = sentences = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit=" lines", desc="counting")
    try:
        for chunk in _chunks(texts, chunk_lines):
            id_array, length_array = vocab.encode_growing(chunk)
            counter.add(id_array, length_array)
            tokens += len(id_array)
            sentences += len(length_array)
            if bar is not None:
                bar.update(len(chunk))
        rows, counts = counter.result()
    finally:
        if bar is not None:
            bar.close()
        if counter.runs and own_dir and counter.spill_dir is not None:
            shutil.rmtree(counter.spill_dir, ignore_errors=True)
    if sentences == 0:
        raise CorpusError("empty corpus: no sentence to count")
    log.info("counted %d tokens in %d sentences: %d distinct %d-grams", tokens, sentences, rows.shape[0], order)
    return NGramCounts(order, vocab.words, np.ascontiguousarray(rows), np.ascontiguousarray(counts), tokens, sentences)
