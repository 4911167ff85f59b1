"""Numba kernel for WordPiece training: merges ranked by likelihood, count(AB) / (count(A) count(B)).

Pair and symbol counts are updated incrementally after each merge, as for BPE. A merge lowers
the counts of A and B, which raises the score of every other pair holding A or B, so those
pairs get fresh heap entries (found through a per-symbol list of pairs); entries whose stored
score no longer matches are re-pushed or dropped when popped. Ties: higher pair count, then
smaller pair (first id, then second). Memory: O(symbols of distinct words + distinct pairs).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

from corpuskit.tokenizers.merge_kernels import add_occurrence, append_merge, neighbour_pair, pair_id, take_positions
from corpuskit.tokenizers.table_kernels import HASH_MUL, MASK32, grow_i64, pow_wrap, slot


@njit(cache=True)
def _better(s1, c1, k1, s2, c2, k2):
    """Entry 1 outranks entry 2: higher score, then higher count, then smaller pair."""
    if s1 != s2:
        return s1 > s2
    if c1 != c2:
        return c1 > c2
    return k1 < k2


@njit(cache=True)
def _push(hs, hc, hk, size, s, c, k):
    if size >= hk.size:
        n = hk.size * 2
        hs2 = np.zeros(n, np.float64)
        hs2[:size] = hs[:size]
        hs = hs2
        hc = grow_i64(hc, n)
        hk = grow_i64(hk, n)
    i = size
    hs[i], hc[i], hk[i] = s, c, k
    while i > 0:
        p = (i - 1) >> 1
        if _better(hs[i], hc[i], hk[i], hs[p], hc[p], hk[p]):
            hs[p], hs[i] = hs[i], hs[p]
            hc[p], hc[i] = hc[i], hc[p]
            hk[p], hk[i] = hk[i], hk[p]
            i = p
        else:
            break
    return hs, hc, hk, size + 1


@njit(cache=True)
def _pop(hs, hc, hk, size):
    s, c, k = hs[0], hc[0], hk[0]
    size -= 1
    hs[0], hc[0], hk[0] = hs[size], hc[size], hk[size]
    _sift_down(hs, hc, hk, size, 0)
    return s, c, k, size


@njit(cache=True)
def _sift_down(hs, hc, hk, size, i):
    """Move entry i down until it outranks its children."""
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        best = left
        if left + 1 < size and _better(hs[left + 1], hc[left + 1], hk[left + 1], hs[left], hc[left], hk[left]):
            best = left + 1
        if _better(hs[best], hc[best], hk[best], hs[i], hc[i], hk[i]):
            hs[i], hs[best] = hs[best], hs[i]
            hc[i], hc[best] = hc[best], hc[i]
            hk[i], hk[best] = hk[best], hk[i]
            i = best
        else:
            break


@njit(cache=True)
def _adj_append(adj_start, adj_len, adj_cap, pool, used, owner, entry):
    """Append `entry` to symbol `owner`'s pair list (a contiguous run of `pool`, moved to the end
    of the pool at twice the capacity when full). Returns the pool and its used length."""
    n = adj_len[owner]
    if n == adj_cap[owner]:
        new_cap = max(4, 2 * n)
        if used + new_cap > pool.size:
            pool = grow_i64(pool, used + new_cap)
        start = adj_start[owner]
        for i in range(n):
            pool[used + i] = pool[start + i]
        adj_start[owner] = used
        adj_cap[owner] = new_cap
        used += new_cap
    pool[adj_start[owner] + n] = entry
    adj_len[owner] = n + 1
    return pool, used


@njit(cache=True)
def _score(pc, ca, cb, likelihood):
    if not likelihood:
        return np.float64(pc)
    return pc / (np.float64(ca) * np.float64(cb))


@njit(cache=True, inline="always")
def _register_pair(pk, pv, counts, slot_key, head, stamp, listed, n_slots, adj_start, adj_len, adj_cap, pool, pool_used, key):
    """The slot of pair `key` (merge_kernels.pair_id), listed in both its symbols' runs of pairs
    unless it is there already (a new pair, or one that died and forms again)."""
    t, pk, pv, counts, slot_key, head, stamp, n_slots = pair_id(pk, pv, counts, slot_key, head, stamp, n_slots, key)
    listed = grow_i64(listed, 2 * n_slots)
    for side in range(2):
        if listed[2 * t + side] == 0:
            owner = key >> 32 if side == 0 else key & MASK32
            pool, pool_used = _adj_append(adj_start, adj_len, adj_cap, pool, pool_used, owner, 2 * t + side)
            listed[2 * t + side] = 1
    return t, pk, pv, counts, slot_key, head, stamp, listed, n_slots, pool, pool_used


@njit(cache=True)
def train_wordpiece_merges(sym, word_start, wcount, tok_full, tok_base, tok_full_len, tok_base_len, n_tokens, vocab_size, min_frequency, likelihood):
    """Learn WordPiece merges; returns an (n, 3) array of (a, b, merged_id) in merge order.

    likelihood=False ranks pairs by plain count instead (HF's WordPieceTrainer criterion).

    tok_full/tok_base: hash of each initial token's string with and without the continuation
    prefix (and their lengths), so a merge whose string exists already reuses that id.
    """
    n_pos = sym.size
    n_words = word_start.size - 1
    nxt = np.empty(n_pos, np.int32)
    prv = np.empty(n_pos, np.int32)
    word_of = np.empty(n_pos, np.int32)
    cap = max(vocab_size, n_tokens) + 16
    full = np.zeros(cap, np.int64)
    base = np.zeros(cap, np.int64)
    flen = np.zeros(cap, np.int64)
    blen = np.zeros(cap, np.int64)
    sym_count = np.zeros(cap, np.int64)
    # each symbol's pairs, as entries 2 * slot + side (0: the symbol is the pair's left one),
    # in contiguous runs of `pool`; pairs whose count fell to zero are dropped from a run when
    # it is next scanned (listed[entry] = 0) and put back if the pair forms again
    adj_start = np.zeros(cap, np.int64)
    adj_len = np.zeros(cap, np.int64)
    adj_cap = np.zeros(cap, np.int64)
    string_id = Dict.empty(key_type=types.int64, value_type=types.int64)
    for t in range(n_tokens):
        full[t], base[t], flen[t], blen[t] = tok_full[t], tok_base[t], tok_full_len[t], tok_base_len[t]
        string_id[tok_full[t]] = t
    for w in range(n_words):
        for i in range(word_start[w], word_start[w + 1]):
            word_of[i] = w
            prv[i] = i - 1 if i > word_start[w] else -1
            nxt[i] = i + 1 if i + 1 < word_start[w + 1] else -1
            sym_count[sym[i]] += wcount[w]

    pk = np.full(1 << 16, -1, np.int64)  # pair -> slot, open addressing (merge_kernels.pair_id)
    pv = np.zeros(1 << 16, np.int32)
    counts = np.zeros(1024, np.int64)
    head = np.full(1024, -1, np.int32)
    stamp = np.full(1024, -1, np.int32)
    n_slots = 0
    occ_pos = np.zeros(max(n_pos, 16), np.int32)
    occ_next = np.zeros(max(n_pos, 16), np.int32)
    n_occ = 0
    pool = np.zeros(max(2 * n_pos, 16), np.int32)
    pool_used = 0
    listed = np.zeros(2048, np.uint8)
    slot_key = np.zeros(1024, np.int64)

    merges = np.zeros((max(vocab_size - n_tokens, 1) + 16, 3), np.int64)
    n_merges = 0
    touched = np.zeros(64, np.int64)
    positions = np.zeros(64, np.int32)
    hs = np.zeros(16, np.float64)
    hc = np.zeros(16, np.int64)
    hk = np.zeros(16, np.int64)
    hsize = 0
    for phase in range(2):
        # phase 0: initial pairs; phase 1: merge loop
        if phase == 0:
            for i in range(n_pos):
                j = nxt[i]
                if j < 0:
                    continue
                key = (np.int64(sym[i]) << 32) | sym[j]
                s, pk, pv, counts, slot_key, head, stamp, listed, n_slots, pool, pool_used = _register_pair(
                    pk, pv, counts, slot_key, head, stamp, listed, n_slots, adj_start, adj_len, adj_cap, pool, pool_used, key
                )
                counts[s] += wcount[word_of[i]]
                occ_pos, occ_next, n_occ = add_occurrence(occ_pos, occ_next, head, n_occ, s, i)
            for s in range(n_slots):
                key = slot_key[s]
                if counts[s] > 0:
                    hs, hc, hk, hsize = _push(hs, hc, hk, hsize, _score(counts[s], sym_count[key >> 32], sym_count[key & MASK32], likelihood), counts[s], key)
            continue
        while n_tokens < vocab_size and hsize > 0:
            sc, c, key, hsize = _pop(hs, hc, hk, hsize)
            s = pv[slot(pk, key)]
            a = key >> 32
            b = key & MASK32
            actual = counts[s]
            if actual <= 0:
                continue
            true_score = _score(actual, sym_count[a], sym_count[b], likelihood)
            if actual != c or true_score != sc:
                hs, hc, hk, hsize = _push(hs, hc, hk, hsize, true_score, actual, key)
                continue
            if actual < min_frequency:
                counts[s] = 0
                continue
            h_full = full[a] * pow_wrap(np.int64(HASH_MUL), blen[b]) + base[b]
            new = string_id[h_full] if h_full in string_id else -1
            if new < 0:
                new = n_tokens
                n_tokens += 1
                if new >= cap:
                    cap *= 2
                    full = grow_i64(full, cap)
                    base = grow_i64(base, cap)
                    flen = grow_i64(flen, cap)
                    blen = grow_i64(blen, cap)
                    sym_count = grow_i64(sym_count, cap)
                    adj_start = grow_i64(adj_start, cap)
                    adj_len = grow_i64(adj_len, cap)
                    adj_cap = grow_i64(adj_cap, cap)
                full[new] = h_full
                base[new] = base[a] * pow_wrap(np.int64(HASH_MUL), blen[b]) + base[b]
                flen[new] = flen[a] + blen[b]
                blen[new] = blen[a] + blen[b]
                string_id[h_full] = new
            merges, n_merges = append_merge(merges, n_merges, a, b, new)
            positions, n_p = take_positions(head, s, occ_pos, occ_next, positions)
            pos_sorted = np.sort(positions[:n_p])
            n_t = 0
            last = -1
            for idx in range(n_p):
                pos = pos_sorted[idx]
                if pos == last:
                    continue
                last = pos
                if sym[pos] != a:
                    continue
                r = nxt[pos]
                if r < 0 or sym[r] != b:
                    continue
                wc = wcount[word_of[pos]]
                sym_count[a] -= wc
                sym_count[b] -= wc
                sym_count[new] += wc
                counts[s] -= wc
                p = prv[pos]
                q = nxt[r]
                for side in range(2):
                    at, old_key, new_key = neighbour_pair(side, sym, p, q, pos, a, b, new)
                    if at < 0:
                        continue
                    if old_key != key:
                        counts[pv[slot(pk, old_key)]] -= wc
                    t, pk, pv, counts, slot_key, head, stamp, listed, n_slots, pool, pool_used = _register_pair(
                        pk, pv, counts, slot_key, head, stamp, listed, n_slots, adj_start, adj_len, adj_cap, pool, pool_used, new_key
                    )
                    counts[t] += wc
                    occ_pos, occ_next, n_occ = add_occurrence(occ_pos, occ_next, head, n_occ, t, at)
                sym[pos] = new
                sym[r] = -1
                nxt[pos] = q
                if q >= 0:
                    prv[q] = pos
            counts[s] = 0
            # every live pair holding a, b or the new symbol gets an entry with its current score
            # (by plain count, only the pairs with the new symbol changed upwards)
            for owner in (a, b, new) if likelihood else (new, new, new):
                start = adj_start[owner]
                kept = start
                for e in range(start, start + adj_len[owner]):
                    entry = pool[e]
                    t = entry >> 1
                    if counts[t] <= 0:
                        listed[entry] = 0
                        continue
                    pool[kept] = entry
                    kept += 1
                    if stamp[t] == n_merges:
                        continue
                    stamp[t] = n_merges
                    k2 = slot_key[t]
                    hs, hc, hk, hsize = _push(hs, hc, hk, hsize, _score(counts[t], sym_count[k2 >> 32], sym_count[k2 & MASK32], likelihood), counts[t], k2)
                adj_len[owner] = kept - start
            if hsize > 2 * n_slots + 65_536:
                # too many stale entries: one fresh entry per live pair, heapified in place
                hsize = 0
                for t in range(n_slots):
                    if counts[t] > 0:
                        k2 = slot_key[t]
                        hs[hsize] = _score(counts[t], sym_count[k2 >> 32], sym_count[k2 & MASK32], likelihood)
                        hc[hsize] = counts[t]
                        hk[hsize] = k2
                        hsize += 1
                for i in range(hsize // 2 - 1, -1, -1):
                    _sift_down(hs, hc, hk, hsize, i)
    return merges[:n_merges]


def train_wordpiece_reference(words: list[list[int]], counts: list[int], tokens: list[str], prefix: str, vocab_size: int, min_frequency: int, likelihood: bool = True) -> list[tuple[int, int, int]]:
    """Reference: recount pairs and symbols before every merge; same scores and tie rule."""
    words = [list(w) for w in words]
    index = {t: i for i, t in enumerate(tokens)}
    merges = []
    while len(tokens) < vocab_size:
        pairs: dict[tuple[int, int], int] = {}
        syms: dict[int, int] = {}
        for w, c in zip(words, counts):
            for x in w:
                syms[x] = syms.get(x, 0) + c
            for x, y in zip(w, w[1:]):
                pairs[(x, y)] = pairs.get((x, y), 0) + c
        live = [(p, n) for p, n in pairs.items() if n >= max(min_frequency, 1)]
        if not live:
            break
        def score(kv: tuple[tuple[int, int], int]) -> float:
            return kv[1] / (float(syms[kv[0][0]]) * float(syms[kv[0][1]])) if likelihood else float(kv[1])

        (a, b), _ = min(live, key=lambda kv: (-score(kv), -kv[1], kv[0]))
        tb = tokens[b]
        string = tokens[a] + (tb[len(prefix) :] if tb.startswith(prefix) else tb)
        new = index.get(string)
        if new is None:
            new = len(tokens)
            tokens.append(string)
            index[string] = new
        merges.append((a, b, new))
        for w in words:
            i = 0
            while i < len(w) - 1:
                if w[i] == a and w[i + 1] == b:
                    w[i : i + 2] = [new]
                i += 1
    return merges
