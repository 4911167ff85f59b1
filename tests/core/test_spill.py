"""SpillCounter and its kernels against plain references: random rows, odd sizes, forced spilling."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.spill import SpillCounter, aggregate, count_rows_reference, merge_runs_reference, merge_sorted_runs


def random_rows(rng: np.random.Generator, n: int, width: int, high: int = 5) -> np.ndarray:
    return rng.integers(-1, high, size=(n, width)).astype(np.int32)


def as_dict(rows: np.ndarray, counts: np.ndarray) -> dict:
    return {tuple(int(v) for v in r): int(c) for r, c in zip(rows, counts)}


@pytest.mark.parametrize("width", [1, 2, 3, 6])
@pytest.mark.parametrize("n", [0, 1, 17, 1001])
def test_in_memory_counting_matches_reference(width: int, n: int) -> None:
    rng = np.random.default_rng(width * 1000 + n)
    keys = random_rows(rng, n, width)
    weights = rng.integers(1, 4, size=n)
    counter = SpillCounter(width, 1 << 24)
    counter.add_rows(keys[: n // 2], weights[: n // 2])
    counter.add_rows(keys[n // 2 :], weights[n // 2 :])
    rows, counts = counter.result()
    assert counter.spills == 0
    assert as_dict(rows, counts) == dict(count_rows_reference(keys, weights))
    assert [tuple(r) for r in rows.tolist()] == sorted(tuple(r) for r in rows.tolist())  # canonical order
    assert counts.dtype == np.int64 and rows.dtype == np.int32


@pytest.mark.parametrize("width", [1, 3])
def test_forced_spilling_gives_the_in_memory_result(width: int, tmp_path) -> None:
    rng = np.random.default_rng(width)
    batches = [random_rows(rng, int(rng.integers(1, 300)), width, high=40) for _ in range(23)]
    memory = SpillCounter(width, 1 << 26)
    tiny = SpillCounter(width, 4000, spill_dir=tmp_path)
    for keys in batches:
        memory.add_rows(keys)
        tiny.add_rows(keys)
    spills = tiny.spills
    want_rows, want_counts = memory.result()
    got_rows, got_counts = tiny.result()
    assert spills > 3
    np.testing.assert_array_equal(got_rows, want_rows)
    np.testing.assert_array_equal(got_counts, want_counts)
    assert not any(tmp_path.iterdir())  # run files removed from a caller's folder


def test_growing_past_the_initial_table_rehashes_correctly() -> None:
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 1 << 20, size=(100_003, 2)).astype(np.int32)
    counter = SpillCounter(2, 1 << 30)
    counter.add_rows(keys)
    counter.add_rows(keys[:50])
    rows, counts = counter.result()
    want_rows, want_counts = aggregate(np.concatenate([keys, keys[:50]]), np.ones(100_053, np.int64))
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(counts, want_counts)


@pytest.mark.parametrize("k", [1, 2, 3, 8, 13])
def test_merge_sorted_runs_matches_reference(k: int) -> None:
    rng = np.random.default_rng(k)
    runs = []
    for _ in range(k):
        n = int(rng.integers(0, 40))
        runs.append(aggregate(random_rows(rng, n, 3), rng.integers(1, 9, size=n)))
    rows = np.concatenate([r for r, _ in runs]) if runs else np.zeros((0, 3), np.int32)
    counts = np.concatenate([c for _, c in runs])
    bounds = np.cumsum([0] + [len(c) for _, c in runs]).astype(np.int64)
    out_rows = np.full((len(counts) + 1, 3), 99, dtype=np.int32)
    out_counts = np.full(len(counts) + 1, -7, dtype=np.int64)
    n = merge_sorted_runs(rows, counts, bounds, out_rows, out_counts)
    want_rows, want_counts = merge_runs_reference(runs)
    np.testing.assert_array_equal(out_rows[:n], want_rows)
    np.testing.assert_array_equal(out_counts[:n], want_counts)


def test_bad_width_is_refused() -> None:
    with pytest.raises(ValueError, match="width"):
        SpillCounter(0, 1000)


@pytest.mark.parametrize("budget", [1 << 26, 3000])
def test_sorted_runs_and_table_rows_merge_alike_in_memory_and_on_disk(budget: int, tmp_path) -> None:
    rng = np.random.default_rng(budget % 97)
    counter = SpillCounter(3, budget, spill_dir=tmp_path)
    everything = []
    for i in range(30):
        keys = random_rows(rng, int(rng.integers(0, 120)), 3, high=12)
        weights = rng.integers(1, 5, size=len(keys))
        everything.append((keys, weights))
        if i % 3:
            counter.add_run(*aggregate(keys, weights))
        else:
            counter.add_rows(keys, weights)
    spilled = counter.spills
    rows, counts = counter.result()
    want_rows, want_counts = merge_runs_reference([(k, w) for k, w in everything if len(k)])
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(counts, want_counts)
    assert (spilled > 2) == (budget < 10_000)
    assert not any(tmp_path.iterdir())
