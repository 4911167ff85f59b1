"""Co-occurrence counts for GloVe in bounded memory: sorted partial counts spill to disk, then merge.

Each slice of the id stream becomes (key = row * V + col, sum of 1/distance) pairs, sorted and
summed. Partial runs stay in memory until they pass `memory_bytes`, then are merged into one run
written to disk. At the end the disk runs are merged one key range at a time, so memory stays
near the budget whatever the corpus size. Counting memory: O(memory_bytes); disk: O(distinct pairs). The returned coordinate arrays
(rows, cols, counts: 16 bytes per distinct pair) are what GloVe trains on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpuskit.embeddings.stream import IdStream

log = logging.getLogger(__name__)

ENTRY_BYTES = 16  # int64 key + float64 count


@dataclass
class Cooccurrences:
    """Sparse co-occurrence matrix in coordinate form (row-major order)."""

    rows: np.ndarray  # int32
    cols: np.ndarray  # int32
    counts: np.ndarray  # float64

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def reduce_pairs(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by key and sum the values of equal keys: ([3, 1, 3], [1, 2, 4]) -> ([1, 3], [2, 5])."""
    if keys.size == 0:
        return keys.astype(np.int64), values.astype(np.float64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    values = values[order].astype(np.float64)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.add.reduceat(values, starts)


def count_cooccurrences(
    stream: IdStream, vocab_size: int, window: int, directory: str | Path, memory_bytes: int = 512 << 20
) -> Cooccurrences:
    """Count symmetric 1/distance-weighted co-occurrences of `stream` within `window`, spilling under `directory`.

    Pairs are counted within each sentence (-1 ends one); a sentence longer than a slice is cut.
    """
    from corpuskit.embeddings.glove_kernels import window_pairs

    directory = Path(directory)
    budget = max(1 << 12, memory_bytes // ENTRY_BYTES)  # entries held in memory at once
    ids = stream.ids()
    slice_tokens = max(1000, budget // (4 * window))
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    pending_entries = 0
    spills: list[tuple[Path, Path]] = []
    for start, end in stream.chunks(slice_tokens):
        part = np.ascontiguousarray(ids[start:end])
        keys = np.empty(2 * window * part.size, dtype=np.int64)
        values = np.empty(2 * window * part.size, dtype=np.float64)
        n = window_pairs(part, window, vocab_size, keys, values)
        run = reduce_pairs(keys[:n], values[:n])
        del keys, values
        pending.append(run)
        pending_entries += run[0].size
        if pending_entries > budget // 2:
            pending = [_merge_runs(pending)]
            pending_entries = pending[0][0].size
            if pending_entries > budget // 4:
                spills.append(_spill(pending[0], directory, len(spills)))
                pending, pending_entries = [], 0
    if not spills:
        keys, values = _merge_runs(pending) if pending else (np.zeros(0, np.int64), np.zeros(0, np.float64))
        return _to_coordinates(keys, values, vocab_size)
    if pending:
        spills.append(_spill(_merge_runs(pending), directory, len(spills)))
    log.info("merging %d co-occurrence runs from disk", len(spills))
    return _merge_spills(spills, directory, vocab_size, budget)


def _merge_runs(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if len(runs) == 1:
        return runs[0]
    return reduce_pairs(np.concatenate([r[0] for r in runs]), np.concatenate([r[1] for r in runs]))


def _spill(run: tuple[np.ndarray, np.ndarray], directory: Path, index: int) -> tuple[Path, Path]:
    keys_path, values_path = directory / f"run{index}.keys.npy", directory / f"run{index}.values.npy"
    np.save(keys_path, run[0])
    np.save(values_path, run[1])
    return keys_path, values_path


def _merge_spills(spills: list[tuple[Path, Path]], directory: Path, vocab_size: int, budget: int) -> Cooccurrences:
    """Merge sorted runs on disk one key range at a time into memory-mapped output arrays."""
    runs = [(np.load(k, mmap_mode="r"), np.load(v, mmap_mode="r")) for k, v in spills]
    total = sum(r[0].size for r in runs)
    step = max(1, budget // (2 * len(runs)))
    samples = np.unique(np.concatenate([np.asarray(r[0][::step]) for r in runs] + [np.array([np.iinfo(np.int64).max])]))
    out_keys = np.lib.format.open_memmap(directory / "merged.keys.npy", mode="w+", dtype=np.int64, shape=(total,))
    out_values = np.lib.format.open_memmap(directory / "merged.values.npy", mode="w+", dtype=np.float64, shape=(total,))
    written = 0
    low = np.iinfo(np.int64).min
    for high in samples:
        parts = []
        for keys, values in runs:
            a, z = np.searchsorted(keys, low, "left"), np.searchsorted(keys, high, "left")
            parts.append((np.asarray(keys[a:z]), np.asarray(values[a:z])))
        keys, values = _merge_runs(parts) if len(parts) > 1 else parts[0]
        out_keys[written : written + keys.size] = keys
        out_values[written : written + keys.size] = values
        written += keys.size
        low = high
    return _to_coordinates(out_keys[:written], out_values[:written], vocab_size)


def _to_coordinates(keys: np.ndarray, values: np.ndarray, vocab_size: int) -> Cooccurrences:
    rows = (keys // vocab_size).astype(np.int32)
    cols = (keys % vocab_size).astype(np.int32)
    return Cooccurrences(rows, cols, np.asarray(values, dtype=np.float64))
