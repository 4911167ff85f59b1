"""Numba kernels for BPE: training with incremental pair counts, and merge-by-rank encoding.

Each kernel has a plain-Python reference (`*_reference`) that tests compare it against.

Training (`train_merges`) follows the classic incremental scheme: count every adjacent pair once,
keep a max-heap of (count, pair) with lazy invalidation, and after each merge update only the
pairs next to the merged occurrences (found through a per-pair list of positions). The corpus is
never recounted. Ties between equal counts go to the smaller pair (first id, then second id),
which is also Hugging Face `tokenizers`' rule. Memory: O(symbols in distinct words + distinct pairs).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

from corpuskit.tokenizers.merge_kernels import add_occurrence, append_merge, neighbour_pair, pair_id, take_positions
from corpuskit.tokenizers.table_kernels import HASH_MUL, MASK32, grow_i64, lookup, pow_wrap, slot


# ---------------------------------------------------------------------------------------------
# Encoding: apply merges by rank inside each word.


@njit(cache=True, nogil=True)
def merge_by_rank(syms, lens, ranks, m, tkeys, tvals):
    """Apply merges to syms[:m] in place, lowest rank first (leftmost on ties); returns the new
    length. `lens` (empty: not kept) holds how many input symbols each symbol covers; `ranks` is
    scratch space of at least m entries. The table maps (a << 32 | b) to (rank << 32 | merged_id).
    """
    big = np.int64(1) << 62
    track = lens.size > 0
    for i in range(m - 1):
        v = lookup(tkeys, tvals, (np.int64(syms[i]) << 32) | syms[i + 1])
        ranks[i] = big if v < 0 else v
    while m > 1:
        best = 0
        for i in range(1, m - 1):
            if ranks[i] < ranks[best]:
                best = i
        if ranks[best] >= big:
            break
        syms[best] = np.int32(ranks[best] & MASK32)
        if track:
            lens[best] += lens[best + 1]
        for i in range(best + 1, m - 1):
            syms[i] = syms[i + 1]
            ranks[i] = ranks[i + 1]
            if track:
                lens[i] = lens[i + 1]
        m -= 1
        if best > 0:
            v = lookup(tkeys, tvals, (np.int64(syms[best - 1]) << 32) | syms[best])
            ranks[best - 1] = big if v < 0 else v
        if best < m - 1:
            v = lookup(tkeys, tvals, (np.int64(syms[best]) << 32) | syms[best + 1])
            ranks[best] = big if v < 0 else v
    return m


@njit(cache=True, nogil=True)
def encode_words(ids, starts, tkeys, tvals):
    """Merge each word's symbols: repeatedly the lowest-rank adjacent pair, leftmost first.

    ids/starts: flat symbol ids of all words and word boundaries (len n+1). The table maps
    (a << 32 | b) to (rank << 32 | merged_id). Returns flat output ids, boundaries, and each
    output token's length in input symbols (for offsets).
    """
    n = starts.size - 1
    out = np.empty(ids.size, np.int32)
    out_len = np.empty(ids.size, np.int32)
    out_starts = np.empty(n + 1, np.int64)
    syms = np.empty(0, np.int32)
    lens = np.empty(0, np.int32)
    ranks = np.empty(0, np.int64)
    k = 0
    for w in range(n):
        out_starts[w] = k
        s = starts[w]
        m = starts[w + 1] - s
        if m > syms.size:
            syms = np.empty(m * 2, np.int32)
            lens = np.empty(m * 2, np.int32)
            ranks = np.empty(m * 2, np.int64)
        for i in range(m):
            syms[i] = ids[s + i]
            lens[i] = 1
        m = merge_by_rank(syms, lens, ranks, m, tkeys, tvals)
        for i in range(m):
            out[k] = syms[i]
            out_len[k] = lens[i]
            k += 1
    out_starts[n] = k
    return out[:k], out_starts, out_len[:k]


def encode_word_reference(symbols: list[int], merges: dict[tuple[int, int], tuple[int, int]]) -> list[int]:
    """Reference for one word: merges maps (a, b) -> (rank, merged_id)."""
    syms = list(symbols)
    while len(syms) > 1:
        best = None
        for i in range(len(syms) - 1):
            hit = merges.get((syms[i], syms[i + 1]))
            if hit is not None and (best is None or hit[0] < best[0]):
                best = (hit[0], i, hit[1])
        if best is None:
            break
        _, i, new = best
        syms[i : i + 2] = [new]
    return syms


# ---------------------------------------------------------------------------------------------
# Training.


@njit(cache=True)
def _heap_less(c1, k1, c2, k2):
    """True when entry 1 ranks below entry 2: lower count, or equal count and larger pair."""
    return c1 < c2 or (c1 == c2 and k1 > k2)


@njit(cache=True)
def _heap_push(hc, hk, size, c, k):
    hc = grow_i64(hc, size + 1)
    hk = grow_i64(hk, size + 1)
    i = size
    hc[i] = c
    hk[i] = k
    while i > 0:
        p = (i - 1) >> 1
        if _heap_less(hc[p], hk[p], hc[i], hk[i]):
            hc[p], hc[i] = hc[i], hc[p]
            hk[p], hk[i] = hk[i], hk[p]
            i = p
        else:
            break
    return hc, hk, size + 1


@njit(cache=True)
def _heap_pop(hc, hk, size):
    c = hc[0]
    k = hk[0]
    size -= 1
    hc[0] = hc[size]
    hk[0] = hk[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        best = left
        right = left + 1
        if right < size and _heap_less(hc[left], hk[left], hc[right], hk[right]):
            best = right
        if _heap_less(hc[i], hk[i], hc[best], hk[best]):
            hc[i], hc[best] = hc[best], hc[i]
            hk[i], hk[best] = hk[best], hk[i]
            i = best
        else:
            break
    return c, k, size


@njit(cache=True)
def train_merges(sym, word_start, wcount, tok_hash, tok_len, n_tokens, vocab_size, min_frequency):
    """Learn merges until the vocabulary holds `vocab_size` tokens or no pair is frequent enough.

    sym: symbol ids of every distinct word, concatenated (modified in place); word_start: word
    boundaries (n_words + 1); wcount: each word's count; tok_hash/tok_len: a 64-bit hash and
    length of each initial token's string (a merged token whose string already exists reuses its
    id). Returns an (n_merges, 3) array of (a, b, merged_id) in merge order. Positions are int32
    (fewer than 2**31 symbols); pairs live in an open-addressing table (pair -> slot).
    """
    n_pos = sym.size
    n_words = word_start.size - 1
    nxt = np.empty(n_pos, np.int32)
    prv = np.empty(n_pos, np.int32)
    word_of = np.empty(n_pos, np.int32)
    for w in range(n_words):
        for i in range(word_start[w], word_start[w + 1]):
            word_of[i] = w
            prv[i] = i - 1 if i > word_start[w] else -1
            nxt[i] = i + 1 if i + 1 < word_start[w + 1] else -1

    pk = np.full(1 << 16, -1, np.int64)
    pv = np.zeros(1 << 16, np.int32)
    string_id = Dict.empty(key_type=types.int64, value_type=types.int64)
    hashes = np.zeros(max(vocab_size, n_tokens) + 16, np.int64)
    lengths = np.zeros(hashes.size, np.int64)
    for t in range(n_tokens):
        hashes[t] = tok_hash[t]
        lengths[t] = tok_len[t]
        string_id[tok_hash[t]] = t
    counts = np.zeros(1024, np.int64)
    keys = np.zeros(1024, np.int64)
    head = np.full(1024, -1, np.int32)
    stamp = np.full(1024, -1, np.int32)
    n_slots = 0
    occ_pos = np.zeros(max(n_pos, 16), np.int32)
    occ_next = np.zeros(max(n_pos, 16), np.int32)
    n_occ = 0

    # initial counts
    for i in range(n_pos):
        j = nxt[i]
        if j < 0:
            continue
        key = (np.int64(sym[i]) << 32) | sym[j]
        s, pk, pv, counts, keys, head, stamp, n_slots = pair_id(pk, pv, counts, keys, head, stamp, n_slots, key)
        counts[s] += wcount[word_of[i]]
        occ_pos, occ_next, n_occ = add_occurrence(occ_pos, occ_next, head, n_occ, s, i)

    hc = np.zeros(max(n_slots, 16), np.int64)
    hk = np.zeros(max(n_slots, 16), np.int64)
    hsize = 0
    for s in range(n_slots):
        if counts[s] > 0:
            hc, hk, hsize = _heap_push(hc, hk, hsize, counts[s], keys[s])

    merges = np.zeros((max(vocab_size - n_tokens, 1) + 16, 3), np.int64)
    n_merges = 0
    touched = np.zeros(64, np.int64)
    positions = np.zeros(64, np.int32)
    while n_tokens < vocab_size and hsize > 0:
        c, key, hsize = _heap_pop(hc, hk, hsize)
        s = pv[slot(pk, key)]
        actual = counts[s]
        if actual != c:
            if actual > 0:
                hc, hk, hsize = _heap_push(hc, hk, hsize, actual, key)
            continue
        if actual < 1 or actual < min_frequency:
            break
        a = key >> 32
        b = key & MASK32
        h = hashes[a] * pow_wrap(np.int64(HASH_MUL), lengths[b]) + hashes[b]
        new = string_id[h] if h in string_id else -1
        if new < 0:
            new = n_tokens
            n_tokens += 1
            if new >= hashes.size:
                hashes = grow_i64(hashes, new + 1)
                lengths = grow_i64(lengths, new + 1)
            hashes[new] = h
            lengths[new] = lengths[a] + lengths[b]
            string_id[h] = new
        merges, n_merges = append_merge(merges, n_merges, a, b, new)

        # This pair's occurrences (stale and repeated entries fail the symbol checks below). Only
        # a pair of two equal symbols can overlap itself ('a a a'), and those must be merged left
        # to right: then the positions are sorted; otherwise the list order is as good as any.
        positions, n_p = take_positions(head, s, occ_pos, occ_next, positions)
        if a == b:
            positions[:n_p] = np.sort(positions[:n_p])
        n_t = 0
        for idx in range(n_p):
            pos = positions[idx]
            if sym[pos] != a:
                continue
            r = nxt[pos]
            if r < 0 or sym[r] != b:
                continue
            wc = wcount[word_of[pos]]
            p = prv[pos]
            q = nxt[r]
            for side in range(2):
                at, old_key, new_key = neighbour_pair(side, sym, p, q, pos, a, b, new)
                if at < 0:
                    continue
                counts[pv[slot(pk, old_key)]] -= wc
                t, pk, pv, counts, keys, head, stamp, n_slots = pair_id(pk, pv, counts, keys, head, stamp, n_slots, new_key)
                counts[t] += wc
                occ_pos, occ_next, n_occ = add_occurrence(occ_pos, occ_next, head, n_occ, t, at)
                if stamp[t] != n_merges:
                    stamp[t] = n_merges
                    if n_t >= touched.size:
                        touched = grow_i64(touched, n_t + 1)
                    touched[n_t] = t
                    n_t += 1
            sym[pos] = new
            sym[r] = -1
            nxt[pos] = q
            if q >= 0:
                prv[q] = pos
        for i in range(n_t):
            cnt = counts[touched[i]]
            if cnt > 0:
                hc, hk, hsize = _heap_push(hc, hk, hsize, cnt, keys[touched[i]])
    return merges[:n_merges]


def train_merges_reference(words: list[list[int]], counts: list[int], tokens: list[str], vocab_size: int, min_frequency: int) -> list[tuple[int, int, int]]:
    """Reference trainer: recount all pairs before every merge (slow, obviously right).

    `tokens` (id -> string) is extended in place with merged tokens.
    """
    words = [list(w) for w in words]
    index = {t: i for i, t in enumerate(tokens)}
    merges = []
    while len(tokens) < vocab_size:
        pairs: dict[tuple[int, int], int] = {}
        for w, c in zip(words, counts):
            for x, y in zip(w, w[1:]):
                pairs[(x, y)] = pairs.get((x, y), 0) + c
        if not pairs:
            break
        (a, b), best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if best < 1 or best < min_frequency:
            break
        string = tokens[a] + tokens[b]
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
