"""Count n-grams over a streamed corpus the way KenLM's lmplz does, within a memory budget.

The unit counted is the *maximal n-gram* of each token: the `order` words ending there, cut at
`<s>` (lmplz pads with `<s>` and drops n-grams with `<s>` past their first word; same thing).
Every shorter n-gram's count follows from these (it ends exactly one of them), so a count table
is all an estimator needs, and tables from different machines merge by adding counts.

Memory: the hash table (`corpuskit.spill.SpillCounter`) grows with distinct maximal n-grams
(about 4*order+40 bytes each); past `memory_mb` it is sorted and spilled as a run to disk, and
the runs are merged k-way at the end, streaming from a memory-mapped file. The merged table (and
the model built from it) is in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.files import atomic_write
from corpuskit.lm.ngram.vocab import SPECIALS, Vocabulary
from corpuskit.spill import SpillCounter, aggregate, sort_rows  # noqa: F401  (sort_rows: re-exported)

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


def _chunks(texts: Iterable[str], chunk_lines: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) >= chunk_lines:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    from corpuskit.lm.ngram.kernels import count_rows

    vocab = Vocabulary()
    counter = SpillCounter(order, int(memory_mb * 2**20), spill_dir)
    tokens = sentences = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit=" lines", desc="counting")
    try:
        for chunk in _chunks(texts, chunk_lines):
            id_array, length_array = vocab.encode_growing(chunk)
            # at most one new row per token and one per sentence end
            counter.add(count_rows, int(length_array.sum()) + len(length_array), id_array, length_array, order)
            tokens += len(id_array)
            sentences += len(length_array)
            if bar is not None:
                bar.update(len(chunk))
        rows, counts = counter.result(ordered=False)  # the estimator needs no order
    finally:
        if bar is not None:
            bar.close()
        counter.close()
    if sentences == 0:
        raise CorpusError("empty corpus: no sentence to count")
    log.info("counted %d tokens in %d sentences: %d distinct %d-grams", tokens, sentences, rows.shape[0], order)
    return NGramCounts(order, vocab.words, np.ascontiguousarray(rows), np.ascontiguousarray(counts), tokens, sentences)
