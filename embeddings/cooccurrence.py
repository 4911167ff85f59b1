"""Co-occurrence counts for GloVe in bounded memory, kept exact: integer counts per (word, context, distance).

The id stream is cut into slices; a numba kernel inserts every (word, context word, distance)
of a slice into `corpuskit.spill.SpillCounter`'s table (both directions, each slice seeing the
`window` ids before it, so the cuts change nothing). Past `memory_bytes` the table spills sorted
runs to disk, merged k-way at the end. Integer counts add exactly in any order, so counts of
shards merge into exactly the counts of the whole corpus; the 1/distance weighting GloVe trains
on is applied afterwards (`weigh`), always summing a pair's distances in the same order.

Counting memory: O(memory_bytes); disk: O(distinct triples). The result holds 20 bytes per
distinct triple; `weigh` gives 16 bytes per distinct pair (what GloVe trains on).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpuskit.embeddings.stream import IdStream
from corpuskit.spill import SpillCounter, row_bytes

log = logging.getLogger(__name__)


@dataclass
class Cooccurrences:
    """Sparse 1/distance-weighted co-occurrence matrix in coordinate form (row-major order)."""

    rows: np.ndarray  # int32
    cols: np.ndarray  # int32
    counts: np.ndarray  # float64

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def count_window_rows(
    stream: IdStream, window: int, memory_bytes: int = 512 << 20, spill_dir: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact counts of (word, context, distance) within `window` in each sentence of `stream` (-1 ends one).

    Returns (rows: n x 3 int32, counts: int64), rows sorted lexicographically. Both directions
    are counted, so (a, b, d) and (b, a, d) have the same count.
    """
    from corpuskit.embeddings.glove_kernels import count_window_pairs

    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    ids = stream.ids()
    counter = SpillCounter(3, memory_bytes, spill_dir)
    slice_tokens = max(1000, memory_bytes // row_bytes(3) // (8 * window))
    try:
        for start, end in stream.chunks(slice_tokens):
            begin = max(0, start - window)  # the ids before the slice that its first words pair with
            part = np.ascontiguousarray(ids[begin:end])
            counter.add(count_window_pairs, 2 * window * (end - start), part, start - begin, window)
        return counter.result()
    finally:
        counter.close()


def weigh(rows: np.ndarray, counts: np.ndarray, vocab_size: int | None = None) -> Cooccurrences:
    """GloVe's matrix from per-distance counts: X[a, b] = sum over d of count(a, b, d) / d.

    `rows` must be sorted (as `count_window_rows` returns them); pairs with a word id >=
    `vocab_size` are dropped. Each pair's terms are summed in order of distance, so equal counts
    always give bit-equal sums. Memory: O(rows).
    """
    if vocab_size is not None:
        keep = (rows[:, 0] < vocab_size) & (rows[:, 1] < vocab_size)
        rows, counts = rows[keep], counts[keep]
    if rows.shape[0] == 0:
        return Cooccurrences(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64))
    values = counts.astype(np.float64) / rows[:, 2]
    starts = np.flatnonzero(np.concatenate([[True], (rows[1:, :2] != rows[:-1, :2]).any(axis=1)]))
    return Cooccurrences(
        np.ascontiguousarray(rows[starts, 0]), np.ascontiguousarray(rows[starts, 1]), np.add.reduceat(values, starts)
    )


def count_cooccurrences(
    stream: IdStream, vocab_size: int, window: int, directory: str | Path | None = None, memory_bytes: int = 512 << 20
) -> Cooccurrences:
    """Symmetric 1/distance-weighted co-occurrences of `stream` within `window`, spilling under `directory`."""
    return weigh(*count_window_rows(stream, window, memory_bytes, directory), vocab_size)
