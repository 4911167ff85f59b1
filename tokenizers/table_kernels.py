"""Numba helpers shared by the tokenizer kernels: a static int64 hash table, array growth, string hashes.

`build_table` makes an open-addressing table (power-of-two size, load <= 0.5, -1 = empty slot)
that `lookup` reads; `slot` is the probe every hash table of the tokenizer kernels uses.
String hashes are 64-bit polynomial hashes (multiplier `HASH_MUL`) that concatenate:
h(xy) = h(x) * HASH_MUL ** len(y) + h(y), with `pow_wrap` giving the power under wrap-around.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MASK32 = np.int64(0xFFFFFFFF)
HASH_MUL = 0x100000001B3


@njit(cache=True, inline="always")
def pow_wrap(base, exponent):
    """base ** exponent with 64-bit wrap-around (string-hash arithmetic)."""
    out = np.int64(1)
    for _ in range(exponent):
        out = out * base
    return out


@njit(cache=True)
def grow_i64(arr, need):
    """`arr` if it holds `need` entries, else a copy at least twice as long (zero-filled tail)."""
    if need <= arr.size:
        return arr
    out = np.zeros(max(need, arr.size * 2), arr.dtype)
    out[: arr.size] = arr
    return out


def build_table(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Open-addressing table (power-of-two size, load <= 0.5) mapping keys (>= 0) to values."""
    size = 16
    while size < 2 * max(len(keys), 1):
        size *= 2
    return _fill_table(np.asarray(keys, np.int64), np.asarray(values, np.int64), size)


@njit(cache=True, inline="always")
def slot(tkeys, key):
    """Index in the open-addressing table `tkeys` (-1 = empty) holding `key`, or the empty
    index where it would go. Shared by every hash table of the tokenizer kernels."""
    mask = tkeys.size - 1
    h = (key * 0x9E3779B97F4A7C15) >> 17 & mask
    while tkeys[h] != -1 and tkeys[h] != key:
        h = (h + 1) & mask
    return h


@njit(cache=True)
def _fill_table(keys, values, size):
    tkeys = np.full(size, -1, np.int64)
    tvals = np.zeros(size, np.int64)
    for i in range(keys.size):
        h = slot(tkeys, keys[i])
        tkeys[h] = keys[i]
        tvals[h] = values[i]
    return tkeys, tvals


@njit(cache=True, inline="always")
def lookup(tkeys, tvals, key):
    """The value stored for `key`, or -1."""
    h = slot(tkeys, key)
    return tvals[h] if tkeys[h] == key else -1
