"""The shared 64-bit hash kernels against their plain-Python twins (and the values they had before)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from corpuskit.hashing import MASK64, fmix64, fmix64_reference, row_hash, row_hash_reference


@njit(cache=True)
def _fmix64_many(values):
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = fmix64(values[i])
    return out


def test_fmix64_matches_reference_on_random_and_edge_values() -> None:
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.integers(0, 2**63, size=500, dtype=np.uint64) * np.uint64(2) + np.uint64(1),
                             np.array([0, 1, 2**63, MASK64, 2**32 - 1], dtype=np.uint64)])
    got = _fmix64_many(values)
    assert [int(v) for v in got] == [fmix64_reference(int(v)) for v in values]
    assert fmix64_reference(0) == 0 and fmix64_reference(1) == 0xB456BCFC34C2CB2C  # MurmurHash3 fmix64(1)


@pytest.mark.parametrize("width", [1, 2, 3, 5, 7])
def test_row_hash_matches_reference(width: int) -> None:
    rng = np.random.default_rng(width)
    rows = rng.integers(-2, 1 << 30, size=(40, width)).astype(np.int32)
    rows[0] = -1  # padding only
    for row in rows:
        assert int(row_hash(row)) == row_hash_reference(row.tolist())
    assert row_hash(np.array([], dtype=np.int32)) == row_hash_reference([])


def test_dedup_and_ngram_kernels_use_the_shared_mixer() -> None:
    from corpuskit.dedup import _kernels as dedup_kernels
    from corpuskit.lm.ngram import kernels as ngram_kernels

    assert dedup_kernels._fmix64 is fmix64
    assert ngram_kernels.fmix64 is fmix64
