"""Count fixed-width integer rows in a hash table within a memory budget: spill sorted runs, merge them k-way.

n-gram counting (rows = the words of a maximal n-gram) and GloVe co-occurrence counting (rows =
word, context word, distance) both count this way:

    counter = SpillCounter(width=3, memory_bytes=512 << 20)
    counter.add(my_kernel, incoming=2 * window * len(ids), ids, window)   # kernel inserts with `insert_row`
    rows, counts = counter.result()                                          # unique rows, sorted

A producer either hands whole arrays of rows to `add_rows`, writes a numba kernel that calls
`insert_row` for each row it generates (no intermediate array), or, when its rows repeat little
within a batch and a table would be mostly cache misses (co-occurrences), sorts each batch
itself and hands the sorted run to `add_run`. Memory: the table grows with distinct rows (about
4*width+40 bytes each); when the next batch could pass `memory_bytes`, the table is sorted and
appended as a run to one file on disk; sorted runs wait in memory until they pass half the
budget, then go to that file too. `result` merges everything k-way (`merge_sorted_runs`, streaming the memory-mapped file once); the merged
result is in memory. Counts are int64 and add exactly, so any split of the input gives the same
result.

Kernels have plain references here (`count_rows_reference`, `merge_runs_reference`), tested
on random inputs in tests/core/test_spill.py.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from numba import njit

from corpuskit.hashing import row_hash

log = logging.getLogger(__name__)

INITIAL_CAPACITY = 1 << 16
SPILL_FILES = ("runs.rows.bin", "runs.counts.bin", "merged.rows.npy", "merged.counts.npy")


def row_bytes(width: int) -> int:
    """Budgeted bytes per counted row: the row, its count and hash slots at most half full."""
    return 4 * width + 40


# ---------------------------------------------------------------- kernels


@njit(cache=True, nogil=True, inline="always")
def insert_row(table, rows, counts, n_rows, key, weight):
    """Add `weight` to the count of row `key` (1-D int32, len = width); returns the new number of rows.

    `table` is an open-addressing index into `rows` (power-of-two capacity, -1 = empty) that the
    caller keeps at most half full; `rows`/`counts` must have room for one more row.
    """
    mask = np.uint64(table.shape[0] - 1)
    slot = row_hash(key) & mask
    width = rows.shape[1]
    while True:
        r = table[slot]
        if r == -1:
            for k in range(width):
                rows[n_rows, k] = key[k]
            counts[n_rows] = weight
            table[slot] = n_rows
            return n_rows + 1
        same = True
        for k in range(width):
            if rows[r, k] != key[k]:
                same = False
                break
        if same:
            counts[r] += weight
            return n_rows
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def count_keys(keys, weights, table, rows, counts, n_rows):
    """Insert every row of `keys` (m x width, int32) with its weight; returns the new number of rows."""
    for i in range(keys.shape[0]):
        n_rows = insert_row(table, rows, counts, n_rows, keys[i], weights[i])
    return n_rows


@njit(cache=True)
def rehash(rows, n_rows, capacity):
    """A fresh index of `capacity` slots (a power of two) over rows[:n_rows]."""
    table = np.full(capacity, -1, dtype=np.int64)
    mask = np.uint64(capacity - 1)
    for r in range(n_rows):
        slot = row_hash(rows[r]) & mask
        while table[slot] != -1:
            slot = (slot + np.uint64(1)) & mask
        table[slot] = r
    return table


@njit(cache=True, inline="always")
def compare_rows(a, i, b, j):
    """-1, 0 or 1 as row a[i] sorts before, equal to or after row b[j] (lexicographic, signed)."""
    for k in range(a.shape[1]):
        if a[i, k] < b[j, k]:
            return -1
        if a[i, k] > b[j, k]:
            return 1
    return 0


@njit(cache=True, inline="always")
def _heap_less(rows, pos, heap, x, y):
    c = compare_rows(rows, pos[heap[x]], rows, pos[heap[y]])
    return c < 0 or (c == 0 and heap[x] < heap[y])


@njit(cache=True, nogil=True)
def merge_sorted_runs(rows, counts, bounds, out_rows, out_counts):
    """Merge the sorted runs rows[bounds[r]:bounds[r+1]] k-way, summing equal rows; returns rows written.

    A binary heap holds one cursor per run; every input row is read once, in order, so `rows`
    and `counts` may be memory-mapped. Time O(N log k); memory O(k) besides the outputs.
    """
    k = bounds.shape[0] - 1
    pos = bounds[:-1].copy()
    heap = np.empty(max(k, 1), dtype=np.int64)
    size = 0
    for r in range(k):
        if pos[r] < bounds[r + 1]:
            heap[size] = r
            child = size
            size += 1
            while child > 0:
                parent = (child - 1) // 2
                if not _heap_less(rows, pos, heap, child, parent):
                    break
                heap[child], heap[parent] = heap[parent], heap[child]
                child = parent
    n = 0
    while size > 0:
        r = heap[0]
        i = pos[r]
        if n > 0 and compare_rows(out_rows, n - 1, rows, i) == 0:
            out_counts[n - 1] += counts[i]
        else:
            out_rows[n] = rows[i]
            out_counts[n] = counts[i]
            n += 1
        pos[r] += 1
        if pos[r] == bounds[r + 1]:
            size -= 1
            heap[0] = heap[size]
        node = 0
        while True:
            left = 2 * node + 1
            if left >= size:
                break
            best = left
            if left + 1 < size and _heap_less(rows, pos, heap, left + 1, left):
                best = left + 1
            if not _heap_less(rows, pos, heap, best, node):
                break
            heap[node], heap[best] = heap[best], heap[node]
            node = best
    return n


# ---------------------------------------------------------------- plain references


def count_rows_reference(keys: Iterable[Iterable[int]], weights: Iterable[int]) -> Counter:
    """What counting gives, as {row tuple: summed weight}."""
    out: Counter = Counter()
    for key, weight in zip(keys, weights):
        out[tuple(int(v) for v in key)] += int(weight)
    return out


def merge_runs_reference(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique rows and summed counts of all runs (Python tuples sort lexicographically)."""
    total = Counter()
    for rows, counts in runs:
        total.update(count_rows_reference(rows, counts))
    keys = sorted(total)
    width = runs[0][0].shape[1] if runs else 0
    return np.asarray(keys, dtype=np.int32).reshape(len(keys), width), np.asarray([total[k] for k in keys], dtype=np.int64)


# ---------------------------------------------------------------- the counter


def packed_keys(rows: np.ndarray) -> np.ndarray | None:
    """One int64 per row that sorts like the row (mixed radix over each column's range), or None if it cannot fit.

    ([[0, 5], [1, -1]]) -> [6, 7]: column 0 spans 2 values, column 1 spans 7. Memory: O(rows).
    """
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    low = rows.min(axis=0).astype(np.int64)
    spans = rows.max(axis=0).astype(np.int64) - low + 1
    if float(np.prod(spans.astype(np.float64))) >= 2.0**62:
        return None
    keys = np.zeros(rows.shape[0], dtype=np.int64)
    for k in range(rows.shape[1]):
        keys *= spans[k]
        keys += rows[:, k] - low[k]
    return keys


def sort_rows(rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows in lexicographic order (first column most significant) with their counts."""
    keys = packed_keys(rows)
    perm = np.lexsort(rows.T[::-1]) if keys is None else np.argsort(keys)
    return rows[perm], counts[perm]


def aggregate(rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows and sum the counts of equal ones (int64). Memory: O(rows)."""
    counts = np.asarray(counts, dtype=np.int64)
    if rows.shape[0] == 0:
        return rows, counts
    keys = packed_keys(rows)
    if keys is None:
        perm = np.lexsort(rows.T[::-1])
        rows, counts = rows[perm], counts[perm]
        new = (rows[1:] != rows[:-1]).any(axis=1)
    else:
        if (keys[1:] > keys[:-1]).all():  # already sorted and unique (e.g. the result of a merge)
            return np.ascontiguousarray(rows), counts
        perm = np.argsort(keys)
        keys, rows, counts = keys[perm], rows[perm], counts[perm]
        new = keys[1:] != keys[:-1]
    if new.all():
        return np.ascontiguousarray(rows), counts
    starts = np.flatnonzero(np.concatenate([[True], new]))
    return np.ascontiguousarray(rows[starts]), np.add.reduceat(counts, starts)


def merge_in_memory(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted in-memory runs k-way into one (unique rows, summed counts). Memory: twice the runs."""
    runs = [run for run in runs if run[0].shape[0]]
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise ValueError("merge_in_memory needs at least one non-empty run")
    rows = np.concatenate([r for r, _ in runs])
    counts = np.concatenate([c for _, c in runs])
    bounds = np.cumsum([0] + [r.shape[0] for r, _ in runs]).astype(np.int64)
    out_rows = np.empty_like(rows)
    out_counts = np.empty_like(counts)
    n = merge_sorted_runs(rows, counts, bounds, out_rows, out_counts)
    del rows, counts
    return out_rows[:n].copy(), out_counts[:n].copy()


class SpillCounter:
    """A growing hash table of int32 rows of `width` with int64 counts, spilling sorted runs to disk.

    `spill_dir` defaults to a temporary folder (removed by `result` or `close`); runs go to
    `runs.rows.bin` / `runs.counts.bin` there. `spills` says how many runs were written.
    """

    def __init__(self, width: int, memory_bytes: int, spill_dir: str | Path | None = None) -> None:
        if width < 1:
            raise ValueError(f"row width must be >= 1, got {width}")
        self.width = width
        self.memory_bytes = int(memory_bytes)
        self.spill_dir = Path(spill_dir) if spill_dir is not None else None
        self._own_dir = spill_dir is None
        self.bounds = [0]  # run boundaries in the run files
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []  # sorted runs still in memory
        self._reset(INITIAL_CAPACITY)

    @property
    def spills(self) -> int:
        return len(self.bounds) - 1

    def _reset(self, capacity: int) -> None:
        self.n_rows = 0
        self.rows = np.empty((capacity // 2, self.width), dtype=np.int32)
        self.counts = np.empty(capacity // 2, dtype=np.int64)
        self.table = np.full(capacity, -1, dtype=np.int64)

    def reserve(self, incoming: int) -> None:
        """Make room for `incoming` more rows: spill first if they could pass the budget, then grow."""
        if self.n_rows and (self.n_rows + incoming) * row_bytes(self.width) > self.memory_bytes:
            self.spill()
        capacity = self.table.shape[0]
        while 2 * (self.n_rows + incoming) > capacity:
            capacity *= 2
        if capacity != self.table.shape[0]:
            grown_rows = np.empty((capacity // 2, self.width), dtype=np.int32)
            grown_counts = np.empty(capacity // 2, dtype=np.int64)
            grown_rows[: self.n_rows] = self.rows[: self.n_rows]
            grown_counts[: self.n_rows] = self.counts[: self.n_rows]
            self.rows, self.counts = grown_rows, grown_counts
            self.table = rehash(self.rows, self.n_rows, capacity)

    def add(self, kernel: Callable[..., int], incoming: int, *args: object) -> None:
        """Run `kernel(*args, table, rows, counts, n_rows) -> n_rows`, which inserts at most `incoming` rows."""
        self.reserve(incoming)
        self.n_rows = int(kernel(*args, self.table, self.rows, self.counts, self.n_rows))

    def add_rows(self, keys: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Count each row of `keys` (m x width) once, or `weights[i]` times."""
        keys = np.ascontiguousarray(keys, dtype=np.int32).reshape(-1, self.width)
        weights = np.ones(keys.shape[0], np.int64) if weights is None else np.ascontiguousarray(weights, dtype=np.int64)
        self.add(count_keys, keys.shape[0], keys, weights)

    def add_run(self, rows: np.ndarray, counts: np.ndarray) -> None:
        """Take a run of unique rows in lexicographic order (e.g. from `aggregate`) with their counts.

        Runs wait in memory; when they pass half the budget, each is appended to the run files.
        """
        rows = np.ascontiguousarray(rows, dtype=np.int32).reshape(-1, self.width)
        if rows.shape[0] == 0:
            return
        self.pending.append((rows, np.ascontiguousarray(counts, dtype=np.int64)))
        if sum(r.shape[0] for r, _ in self.pending) * (4 * self.width + 8) > self.memory_bytes // 2:
            for run in self.pending:
                self._write_run(*run)
            self.pending = []

    def spill(self) -> None:
        """Append the table to the run files as one sorted run and start an empty table."""
        self._write_run(*sort_rows(self.rows[: self.n_rows], self.counts[: self.n_rows]))
        self._reset(INITIAL_CAPACITY)

    def _write_run(self, rows: np.ndarray, counts: np.ndarray) -> None:
        """Append one sorted run to the run files (made on the first call, replacing stale ones)."""
        if self.spill_dir is None:
            self.spill_dir = Path(tempfile.mkdtemp(prefix="corpuskit-spill-"))
        mode = "ab" if self.spills else "wb"
        with open(self.spill_dir / "runs.rows.bin", mode) as out:
            out.write(np.ascontiguousarray(rows).tobytes())
        with open(self.spill_dir / "runs.counts.bin", mode) as out:
            out.write(np.ascontiguousarray(counts).tobytes())
        self.bounds.append(self.bounds[-1] + rows.shape[0])
        log.info("spilled run %d: %d rows to %s", self.spills, rows.shape[0], self.spill_dir)

    def result(self, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The unique rows and their counts, sorted (unless `ordered` is False and nothing spilled)."""
        try:
            if not self.spills:
                rows, counts = self.rows[: self.n_rows].copy(), self.counts[: self.n_rows].copy()
                if not self.pending:
                    return sort_rows(rows, counts) if ordered else (rows, counts)
                self._reset(2)
                return merge_in_memory(self.pending + [sort_rows(rows, counts)])
            if self.n_rows:
                self.spill()
            for run in self.pending:
                self._write_run(*run)
            self.pending = []
            total = self.bounds[-1]
            assert self.spill_dir is not None
            rows = np.memmap(self.spill_dir / "runs.rows.bin", dtype=np.int32, mode="r", shape=(total, self.width))
            counts = np.memmap(self.spill_dir / "runs.counts.bin", dtype=np.int64, mode="r", shape=(total,))
            out_rows = np.lib.format.open_memmap(self.spill_dir / "merged.rows.npy", mode="w+", dtype=np.int32, shape=(total, self.width))
            out_counts = np.lib.format.open_memmap(self.spill_dir / "merged.counts.npy", mode="w+", dtype=np.int64, shape=(total,))
            n = merge_sorted_runs(rows, counts, np.asarray(self.bounds, dtype=np.int64), out_rows, out_counts)
            log.info("merged %d runs (%d rows) into %d distinct rows", self.spills, total, n)
            result = np.array(out_rows[:n]), np.array(out_counts[:n])
            del rows, counts, out_rows, out_counts
            return result
        finally:
            self.close()

    def close(self) -> None:
        """Free the table and remove the spill files (and the folder, if this counter made it)."""
        self._reset(2)
        self.pending = []
        if self.spill_dir is None:
            return
        if self._own_dir:
            shutil.rmtree(self.spill_dir, ignore_errors=True)
            self.spill_dir = None
            return
        for name in SPILL_FILES:
            (self.spill_dir / name).unlink(missing_ok=True)
