"""64-bit hash kernels shared by dedup (shingle hashes) and the counting tables (n-grams, co-occurrences).

Versions (numba, each with its plain-Python twin below it, compared in tests/core/test_hashing.py):
1. `fmix64`: MurmurHash3's 64-bit finaliser; every output bit depends on every input bit.
2. `row_hash`: a row of small integers (ids >= -2) folded through `fmix64` one value at a time.

All arithmetic is unsigned and wraps: literals are typed np.uint64, because numba turns
uint64-with-int64 arithmetic into float64. Cost: O(1) per value, no memory.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numba import njit

MASK64 = (1 << 64) - 1
ROW_SEED = 0x9E3779B97F4A7C15  # golden-ratio constant; the first value of every row hash


@njit(cache=True, nogil=True, inline="always")
def fmix64(h):
    """MurmurHash3's fmix64 on a np.uint64 (returns np.uint64)."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def fmix64_reference(h: int) -> int:
    """`fmix64` on a Python int in [0, 2**64)."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    h ^= h >> 33
    return h


@njit(cache=True, nogil=True)
def row_hash(row):
    """Hash of a 1-D row of integers (each >= -2): fold `fmix64(h ^ (value + 2))` over the row."""
    h = np.uint64(ROW_SEED)
    for v in row:
        h = fmix64(h ^ np.uint64(np.int64(v) + 2))
    return h


def row_hash_reference(row: Iterable[int]) -> int:
    """`row_hash` in plain Python."""
    h = ROW_SEED
    for v in row:
        h = fmix64_reference(h ^ ((int(v) + 2) & MASK64))
    return h
