"""Numba helpers for merge training (BPE and WordPiece): a table of pairs, and each pair's positions.

A pair (a, b) of symbol ids is the key a << 32 | b; `pair_id` gives it a dense slot in growing
per-pair arrays (counts, keys, list heads, stamps). Each pair keeps a linked list of the positions
where it occurs (`add_occurrence`, `take_positions`), so a merge touches only its own occurrences
and the pairs next to them (`neighbour_pair`). Memory: O(distinct pairs + recorded positions).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.tokenizers.table_kernels import grow_i64, slot


@njit(cache=True)
def pair_table_grow(pk, pv):
    """The pair table at twice the size (load kept under one half)."""
    size = pk.size * 2
    k2 = np.full(size, -1, np.int64)
    v2 = np.zeros(size, np.int32)
    for i in range(pk.size):
        if pk[i] != -1:
            h = slot(k2, pk[i])
            k2[h] = pk[i]
            v2[h] = pv[i]
    return k2, v2


@njit(cache=True, inline="always")
def pair_id(pk, pv, counts, keys, head, stamp, n_slots, key):
    """The id of pair `key`, registering it when new (growing the per-pair arrays as needed).

    Returns the id and the (possibly reallocated) tables, so callers rebind them all.
    """
    h = slot(pk, key)
    if pk[h] != -1:
        return pv[h], pk, pv, counts, keys, head, stamp, n_slots
    s = n_slots
    pk[h] = key
    pv[h] = s
    n_slots += 1
    if 2 * n_slots > pk.size:
        pk, pv = pair_table_grow(pk, pv)
    if n_slots > counts.size:
        counts = grow_i64(counts, n_slots)
        keys = grow_i64(keys, n_slots)
        old = head.size
        head = grow_i64(head, n_slots)
        head[old:] = -1
        stamp = grow_i64(stamp, n_slots)
        stamp[old:] = -1
    keys[s] = key
    return s, pk, pv, counts, keys, head, stamp, n_slots


@njit(cache=True, inline="always")
def add_occurrence(occ_pos, occ_next, head, n_occ, s, at):
    """Record that pair `s` occurs at position `at` (pushed on the pair's list of positions)."""
    if n_occ >= occ_pos.size:
        occ_pos = grow_i64(occ_pos, n_occ + 1)
        occ_next = grow_i64(occ_next, n_occ + 1)
    occ_pos[n_occ] = at
    occ_next[n_occ] = head[s]
    head[s] = n_occ
    return occ_pos, occ_next, n_occ + 1


@njit(cache=True, inline="always")
def take_positions(head, s, occ_pos, occ_next, positions):
    """The recorded positions of pair `s` (stale and repeated ones included), emptying its list."""
    n_p = 0
    e = head[s]
    while e >= 0:
        if n_p >= positions.size:
            positions = grow_i64(positions, n_p + 1)
        positions[n_p] = occ_pos[e]
        n_p += 1
        e = occ_next[e]
    head[s] = -1
    return positions, n_p


@njit(cache=True, inline="always")
def neighbour_pair(side, sym, p, q, pos, a, b, new):
    """Merging (a, b) at pos..r, with p before and q after: the pair on `side` (0: left, 1:
    right) as it was and as it becomes, and where the new pair starts; -1 when there is none."""
    if side == 0:
        if p < 0:
            return np.int64(-1), np.int64(0), np.int64(0)
        return np.int64(p), (np.int64(sym[p]) << 32) | a, (np.int64(sym[p]) << 32) | new
    if q < 0:
        return np.int64(-1), np.int64(0), np.int64(0)
    return np.int64(pos), (b << 32) | np.int64(sym[q]), (new << 32) | np.int64(sym[q])


@njit(cache=True, inline="always")
def append_merge(merges, n_merges, a, b, new):
    """Append the merge (a, b) -> new to the (n, 3) merge array, doubling it when full."""
    if n_merges >= merges.shape[0]:
        bigger = np.zeros((merges.shape[0] * 2, 3), np.int64)
        bigger[:n_merges] = merges[:n_merges]
        merges = bigger
    merges[n_merges, 0] = a
    merges[n_merges, 1] = b
    merges[n_merges, 2] = new
    return merges, n_merges + 1
