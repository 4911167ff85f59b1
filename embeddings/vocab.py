"""Vocabulary for embedding trainers: counts, frequency-sorted ids, sub-sampling, negative table, Huffman tree.

Memory: O(distinct words) for the vocabulary and each table built from it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from corpuskit.document import CorpusError

NEGATIVE_DOMAIN = 2**31 - 1  # the cumulative negative-sampling table spans [0, NEGATIVE_DOMAIN]
KEEP_SCALE = 2**32  # keep thresholds are probabilities scaled to 32-bit integers


@dataclass
class Vocabulary:
    """Words sorted by descending count (ties by the word itself), and their counts."""

    words: list[str]
    counts: np.ndarray  # int64, same order as words

    def __len__(self) -> int:
        return len(self.words)

    def index(self) -> dict[str, int]:
        """word -> id."""
        return {word: i for i, word in enumerate(self.words)}

    @property
    def total(self) -> int:
        """Tokens in the corpus that belong to the vocabulary."""
        return int(self.counts.sum())


def build_vocabulary(
    words: list[str], counts: np.ndarray, min_count: int = 5, max_vocab_size: int | None = None
) -> tuple[Vocabulary, np.ndarray]:
    """Keep words seen >= min_count times (at most max_vocab_size of the most frequent).

    `words[i]` was seen `counts[i]` times. The vocabulary is sorted by descending count, ties by
    the word (a canonical order: it does not depend on how the corpus was split). Returns the vocabulary
    and `remap`, an int32 array sending each input index to its vocabulary id or -2 (dropped).
    Raises CorpusError for an empty corpus or when no word reaches min_count.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size == 0 or counts.sum() == 0:
        raise CorpusError("empty corpus: no tokens to build a vocabulary from")
    kept = np.flatnonzero(counts >= min_count)
    if kept.size == 0:
        raise CorpusError(
            f"no word reaches min_count={min_count} (the most frequent word is seen {int(counts.max())} times); lower min_count"
        )
    by_word = np.asarray(sorted(kept.tolist(), key=words.__getitem__), dtype=np.int64)
    order = by_word[np.argsort(-counts[by_word], kind="stable")]
    if max_vocab_size is not None:
        order = order[:max_vocab_size]
    remap = np.full(len(words), -2, dtype=np.int32)
    remap[order] = np.arange(order.size, dtype=np.int32)
    return Vocabulary([words[i] for i in order], counts[order]), remap


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec's probability of keeping each occurrence of a word when sub-sampling frequent words.

    p = (sqrt(c / (sample * N)) + 1) * (sample * N) / c, capped at 1; sample <= 0 keeps all.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1.0) * threshold / counts)


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """keep_probabilities scaled to [0, 2**32] as int64: keep when a 32-bit random draw is below it."""
    return np.round(keep_probabilities(counts, sample) * KEEP_SCALE).astype(np.int64)


def negative_table(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Cumulative unigram^power table (int64, ends at NEGATIVE_DOMAIN) for drawing negatives by bisection."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    cumulative = np.cumsum(weights) / weights.sum()
    table = np.round(cumulative * NEGATIVE_DOMAIN).astype(np.int64)
    table[-1] = NEGATIVE_DOMAIN
    return table


@dataclass
class HuffmanTree:
    """Binary codes of every word in CSR layout, for hierarchical softmax.

    Word w's path is points[offsets[w]:offsets[w+1]] (inner-node rows, root first) with the
    branch taken at each, codes[...] (0 or 1). Frequent words get short codes.
    """

    offsets: np.ndarray  # int64, V + 1
    points: np.ndarray  # int32
    codes: np.ndarray  # int8

    def code(self, word: int) -> tuple[np.ndarray, np.ndarray]:
        """(points, codes) of one word."""
        lo, hi = self.offsets[word], self.offsets[word + 1]
        return self.points[lo:hi], self.codes[lo:hi]


def huffman_tree(counts: np.ndarray) -> HuffmanTree:
    """Build the Huffman tree of `counts` (V >= 1); inner nodes are numbered 0..V-2, the root is V-2.

    Memory and time: O(V log V).
    """
    counts = np.asarray(counts, dtype=np.int64)
    size = counts.size
    if size == 1:
        return HuffmanTree(np.array([0, 0], dtype=np.int64), np.zeros(0, np.int32), np.zeros(0, np.int8))
    heap = [(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.zeros(2 * size - 1, dtype=np.int64)
    branch = np.zeros(2 * size - 1, dtype=np.int8)
    next_node = size
    while len(heap) > 1:
        count_a, a = heapq.heappop(heap)
        count_b, b = heapq.heappop(heap)
        parent[a] = parent[b] = next_node
        branch[b] = 1
        heapq.heappush(heap, (count_a + count_b, next_node))
        next_node += 1
    root = 2 * size - 2
    paths_points: list[list[int]] = []
    paths_codes: list[list[int]] = []
    for word in range(size):
        points, codes = [], []
        node = word
        while node != root:
            codes.append(int(branch[node]))
            node = int(parent[node])
            points.append(node - size)
        paths_points.append(points[::-1])
        paths_codes.append(codes[::-1])
    lengths = np.array([len(p) for p in paths_points], dtype=np.int64)
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return HuffmanTree(
        offsets,
        np.array([p for path in paths_points for p in path], dtype=np.int32),
        np.array([c for path in paths_codes for c in path], dtype=np.int8),
    )
