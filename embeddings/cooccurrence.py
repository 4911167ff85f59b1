"""Co-occurrence counts for GloVe in bounded memory, kept exact: integer counts per (word, context, distance).

The matrix is symmetric, so one row per pair is counted: (lower id, higher id, distance). The id
stream is cut into slices; a numba kernel writes the pairs of a slice as int64 keys that sort
like the rows (each slice also sees the `window` ids before it, so the cuts change nothing),
they are sorted and counted, and the sorted run goes to `corpuskit.spill.SpillCounter`, which
holds runs in memory, spills them to disk past `memory_bytes` and merges them k-way. (Pairs
repeat little within a slice, so sorting each slice beats a hash table whose every probe would
be a cache miss.) Integer counts add exactly in any order, so
counts of shards merge into exactly the counts of the whole corpus; the 1/distance weighting
GloVe trains on is applied afterwards (`weigh`), always summing a pair's distances in one order.

Counting memory: O(memory_bytes); disk: O(distinct triples). The result holds 20 bytes per
distinct (pair, distance); `weigh` gives 16 bytes per matrix entry (what GloVe trains on).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpuskit.embeddings.stream import IdStream
from corpuskit.spill import SpillCounter

log = logging.getLogger(__name__)


@dataclass
class Cooccurrences:
    """Sparse 1/distance-weighted co-occurrence matrix in coordinate form (both triangles; see `weigh`)."""

    rows: np.ndarray  # int32
    cols: np.ndarray  # int32
    counts: np.ndarray  # float64

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def count_window_rows(
    stream: IdStream, vocab_size: int, window: int, memory_bytes: int = 512 << 20, spill_dir: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact counts of (lower id, higher id, distance) within `window` in each sentence of `stream` (-1 ends one).

    Returns (rows: n x 3 int32, counts: int64), rows sorted lexicographically. Word ids are
    below `vocab_size`.
    """
    from corpuskit.embeddings.glove_kernels import window_keys

    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if float(vocab_size) ** 2 * window >= 2.0**62:
        raise ValueError(f"{vocab_size} words and window {window}: pair keys would overflow 64 bits")
    ids = stream.ids()
    counter = SpillCounter(3, memory_bytes, spill_dir)
    slice_tokens = max(1000, memory_bytes // (64 * window))  # a slice's keys take at most 1/8 of the budget
    try:
        for start, end in stream.chunks(slice_tokens):
            begin = max(0, start - window)  # the ids before the slice that its first words pair with
            keys = np.empty(window * (end - start), dtype=np.int64)
            n = window_keys(np.ascontiguousarray(ids[begin:end]), start - begin, window, vocab_size, keys)
            keys = np.sort(keys[:n])
            starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
            counts = np.diff(np.append(starts, n)).astype(np.int64)
            keys = keys[starts]
            pairs, distance = np.divmod(keys, window)
            low, high = np.divmod(pairs, vocab_size)
            counter.add_run(np.column_stack([low, high, distance + 1]).astype(np.int32), counts)
        return counter.result()
    finally:
        counter.close()


def weigh(rows: np.ndarray, counts: np.ndarray, vocab_size: int | None = None) -> Cooccurrences:
    """GloVe's matrix from per-distance counts: X[a, b] = X[b, a] = sum over d of count(a, b, d) / d.

    `rows` hold (lower id, higher id, distance), sorted (as `count_window_rows` returns them); a
    pair of a word with itself counts twice (both directions), as in a two-directional count.
    Pairs with a word id >= `vocab_size` are dropped. Each pair's terms are summed in order of
    distance, so equal counts always give bit-equal sums. Entries come in a canonical order: the
    upper triangle (a <= b) sorted, then its mirror (b, a) for a < b in the same order.
    Memory: O(rows).
    """
    if vocab_size is not None:
        keep = rows[:, 1] < vocab_size
        rows, counts = rows[keep], counts[keep]
    if rows.shape[0] == 0:
        return Cooccurrences(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64))
    values = counts.astype(np.float64) / rows[:, 2]
    pair = rows[:, 0].astype(np.int64) * (int(rows[:, 1].max()) + 1) + rows[:, 1]
    starts = np.flatnonzero(np.concatenate([[True], pair[1:] != pair[:-1]]))
    low, high, sums = rows[starts, 0], rows[starts, 1], np.add.reduceat(values, starts)
    same = low == high
    sums[same] *= 2.0
    other = ~same
    return Cooccurrences(
        np.concatenate([low, high[other]]).astype(np.int32),
        np.concatenate([high, low[other]]).astype(np.int32),
        np.concatenate([sums, sums[other]]),
    )


def count_cooccurrences(
    stream: IdStream, vocab_size: int, window: int, directory: str | Path | None = None, memory_bytes: int = 512 << 20
) -> Cooccurrences:
    """Symmetric 1/distance-weighted co-occurrences of `stream` within `window`, spilling under `directory`."""
    return weigh(*count_window_rows(stream, vocab_size, window, memory_bytes, directory), vocab_size)
