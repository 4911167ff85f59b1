"""What the embedding trainers count: word counts (all three) and GloVe's per-distance co-occurrences.

Both keep every word seen (the `min_count` / `max_vocab_size` cut is a training option, applied
after merging: a word rare in one shard may be frequent in the whole), in the canonical order
"descending count, then the word", so the training vocabulary is always a prefix of `words` and
equal merged counts give equal ids. Counts are int64 and add exactly, so shards merge in any
order into the counts of the whole corpus, to the byte.

    counts = Word2VecTrainer(dim=100).count(shard_texts)           # VocabCounts
    merged = Counts.merge_all([counts_a, counts_b, counts_c])
    vectors = Word2VecTrainer(dim=100).train_from_counts(merged, corpus)

Memory: O(distinct words); GloVe's counts add 20 bytes per distinct (pair, distance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.embeddings.vocab import Vocabulary, build_vocabulary
from corpuskit.spill import aggregate
from corpuskit.trainer import Counts


def canonical_order(words: Sequence[str], counts: np.ndarray) -> np.ndarray:
    """Indices of `words` by descending count, ties by the word (Python string order). O(V log V)."""
    by_word = np.asarray(sorted(range(len(words)), key=words.__getitem__), dtype=np.int64)
    return by_word[np.argsort(-np.asarray(counts, dtype=np.int64)[by_word], kind="stable")]


class VocabCounts(Counts):
    """Every word seen and how often, canonical order (see the module docstring)."""

    format: ClassVar[str] = "corpuskit.embed-vocab-counts"

    def __init__(self, config: dict[str, Any], words: Sequence[str], counts: np.ndarray) -> None:
        super().__init__(config)
        counts = np.asarray(counts, dtype=np.int64)
        if len(words) != counts.shape[0]:
            raise ValueError(f"{len(words)} words but {counts.shape[0]} counts")
        order = canonical_order(words, counts)
        self.words = [words[i] for i in order.tolist()]
        self.counts = counts[order]
        if len(set(self.words)) != len(self.words):
            raise ValueError("a word is listed twice")

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.words)} words, {int(self.counts.sum())} tokens, config={self.config})"

    def vocabulary(self, min_count: int = 1, max_vocab_size: int | None = None) -> Vocabulary:
        """The training vocabulary: words seen >= min_count times, at most max_vocab_size (a prefix of `words`)."""
        vocab, _ = build_vocabulary(self.words, self.counts, min_count, max_vocab_size)
        return vocab

    def _merged_words(self, other: "VocabCounts") -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(merged words, merged counts, remap of self's ids, remap of other's ids), canonical order."""
        index = {w: i for i, w in enumerate(self.words)}
        union = list(self.words) + [w for w in other.words if w not in index]
        for w in union[len(self.words) :]:
            index[w] = len(index)
        totals = np.zeros(len(union), dtype=np.int64)
        totals[: len(self.words)] += self.counts
        other_ids = np.asarray([index[w] for w in other.words], dtype=np.int64)
        np.add.at(totals, other_ids, other.counts)
        order = canonical_order(union, totals)
        position = np.empty(len(union), dtype=np.int32)
        position[order] = np.arange(len(union), dtype=np.int32)
        return [union[i] for i in order.tolist()], totals[order], position[: len(self.words)], position[other_ids]

    def _merged(self, other: Counts) -> "VocabCounts":
        assert isinstance(other, VocabCounts)
        words, totals, _, _ = self._merged_words(other)
        return VocabCounts(self.config, words, totals)

    def _to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {"counts": self.counts}, {"words": self.words}

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], config: dict[str, Any]) -> "VocabCounts":
        return cls(config, meta["words"], arrays["counts"])


def _pair_rows(rows: np.ndarray, remap: np.ndarray) -> np.ndarray:
    """(lower, higher, distance) rows with both ids sent through `remap`."""
    a, b = remap[rows[:, 0]], remap[rows[:, 1]]
    return np.column_stack([np.minimum(a, b), np.maximum(a, b), rows[:, 2]]).astype(np.int32).reshape(-1, 3)


class CooccurrenceCounts(VocabCounts):
    """GloVe's counts: the words, and exact counts of (lower id, higher id, distance) rows.

    `rows` (n x 3 int32) are sorted and unique, ids index `words`; the matrix is symmetric, so
    each pair is kept once. The 1/distance weighting is applied only when training
    (`cooccurrence.weigh`).
    """

    format: ClassVar[str] = "corpuskit.glove-counts"

    def __init__(self, config: dict[str, Any], words: Sequence[str], counts: np.ndarray, rows: np.ndarray, pair_counts: np.ndarray) -> None:
        counts = np.asarray(counts, dtype=np.int64)
        super().__init__(config, words, counts)
        rows = np.asarray(rows, dtype=np.int32).reshape(-1, 3)
        pair_counts = np.asarray(pair_counts, dtype=np.int64)
        if rows.shape[0] != pair_counts.shape[0]:
            raise ValueError(f"{rows.shape[0]} co-occurrence rows but {pair_counts.shape[0]} counts")
        if rows.size and (rows[:, :2].min() < 0 or rows[:, :2].max() >= len(words) or rows[:, 2].min() < 1):
            raise ValueError("co-occurrence rows must hold word ids below the vocabulary size and distances >= 1")
        order = canonical_order(words, counts)
        if not np.array_equal(order, np.arange(len(words))) or (rows[:, 0] > rows[:, 1]).any():  # renumber, lower id first
            position = np.empty(len(words), dtype=np.int32)
            position[order] = np.arange(len(words), dtype=np.int32)
            rows = _pair_rows(rows, position)
        self.rows, self.pair_counts = aggregate(np.ascontiguousarray(rows), pair_counts)

    def __repr__(self) -> str:
        return f"CooccurrenceCounts({len(self.words)} words, {len(self.rows)} (pair, distance) rows, config={self.config})"

    def _merged(self, other: Counts) -> "CooccurrenceCounts":
        assert isinstance(other, CooccurrenceCounts)
        words, totals, mine, theirs = self._merged_words(other)
        rows = np.concatenate([_pair_rows(self.rows, mine), _pair_rows(other.rows, theirs)])
        return CooccurrenceCounts(self.config, words, totals, rows, np.concatenate([self.pair_counts, other.pair_counts]))

    def _to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {"counts": self.counts, "rows": self.rows, "pair_counts": self.pair_counts}, {"words": self.words}

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], config: dict[str, Any]) -> "CooccurrenceCounts":
        return cls(config, meta["words"], arrays["counts"], arrays["rows"], arrays["pair_counts"])


def require_tokens(counts: VocabCounts) -> None:
    """An empty corpus (no token at all) is a CorpusError."""
    if len(counts) == 0 or int(counts.counts.sum()) == 0:
        raise CorpusError("empty corpus: no tokens to build a vocabulary from")
