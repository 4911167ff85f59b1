"""Numba kernels for the Unigram model: a codepoint trie, Viterbi, and forward-backward (EM).

Pieces live in a trie whose edges sit in an open-addressing table keyed by
(node << 21 | codepoint). Each kernel has a plain-Python reference that tests compare against.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from corpuskit.tokenizers.table_kernels import build_table, lookup, slot

_NEG_INF = -np.inf


@njit(cache=True)
def build_trie(cps, starts):
    """Trie of pieces given as flat codepoints + boundaries. Returns (table keys, child node, piece id per node).

    The edge table doubles to stay under half full, so it is sized by the trie's nodes (often far
    fewer than the pieces' characters: the prefixes of a piece are mostly pieces too).
    """
    size = 1024
    tkeys = np.full(size, -1, np.int64)
    tvals = np.zeros(size, np.int32)
    node_piece = np.full(size, -1, np.int32)
    n_nodes = 1
    for p in range(starts.size - 1):
        node = 0
        for i in range(starts[p], starts[p + 1]):
            key = (np.int64(node) << 21) | cps[i]
            h = slot(tkeys, key)
            if tkeys[h] == -1:
                tkeys[h] = key
                tvals[h] = np.int32(n_nodes)
                n_nodes += 1
                if n_nodes > node_piece.size:
                    grown = np.full(2 * node_piece.size, -1, np.int32)
                    grown[: node_piece.size] = node_piece
                    node_piece = grown
                if 2 * n_nodes > size:
                    size *= 2
                    k2 = np.full(size, -1, np.int64)
                    v2 = np.zeros(size, np.int32)
                    for old in range(tkeys.size):
                        if tkeys[old] != -1:
                            h2 = slot(k2, tkeys[old])
                            k2[h2] = tkeys[old]
                            v2[h2] = tvals[old]
                    tkeys, tvals = k2, v2
                    h = slot(tkeys, key)
            node = tvals[h]
        if node_piece[node] == -1:
            node_piece[node] = p
    return tkeys, tvals, node_piece


@njit(cache=True, inline="always")
def _child(tkeys, tvals, node, cp):
    """The trie node reached from `node` by code point `cp`, or -1."""
    return lookup(tkeys, tvals, (np.int64(node) << 21) | cp)


@njit(cache=True, nogil=True)
def viterbi_words(cps, starts, tkeys, tvals, node_piece, scores, unk_id, unk_score, exclude):
    """Best segmentation of each word (SentencePiece's Viterbi, ties to the earliest start).

    A position no single-character piece covers gets an unknown node (score `unk_score`);
    consecutive unknowns fuse into one. `exclude[w]` (or -1) is a piece word w may not use.
    Returns flat piece ids (unk_id for unknowns, -2 when unk_id < 0), char lengths, boundaries.
    """
    n = starts.size - 1
    out = np.empty(cps.size, np.int64)
    out_len = np.empty(cps.size, np.int64)
    out_starts = np.empty(n + 1, np.int64)
    k = 0
    best = np.empty(0, np.float64)
    back = np.empty(0, np.int64)
    piece = np.empty(0, np.int64)
    for w in range(n):
        out_starts[w] = k
        s = starts[w]
        m = starts[w + 1] - s
        if m + 1 > best.size:
            best = np.empty(2 * m + 2, np.float64)
            back = np.empty(2 * m + 2, np.int64)
            piece = np.empty(2 * m + 2, np.int64)
        for i in range(m + 1):
            back[i] = -1
        best[0] = 0.0
        for i in range(m):
            if i > 0 and back[i] == -1:
                continue
            here = best[i]
            node = 0
            single = False
            for j in range(i, m):
                node = _child(tkeys, tvals, node, cps[s + j])
                if node < 0:
                    break
                p = node_piece[node]
                if p >= 0 and p != exclude[w]:
                    cand = here + scores[p]
                    if back[j + 1] == -1 or cand > best[j + 1]:
                        best[j + 1] = cand
                        back[j + 1] = i
                        piece[j + 1] = p
                    if j == i:
                        single = True
            if not single:
                cand = here + unk_score
                if back[i + 1] == -1 or cand > best[i + 1]:
                    best[i + 1] = cand
                    back[i + 1] = i
                    piece[i + 1] = -1
        # backtrack (fusing unknowns), then reverse into the output
        end = m
        first = k
        while end > 0:
            b = back[end]
            p = piece[end]
            if p == -1 and k > first and out[k - 1] == -1:
                out_len[k - 1] += end - b
            else:
                out[k] = p
                out_len[k] = end - b
                k += 1
            end = b
        out[first:k] = out[first:k][::-1].copy()
        out_len[first:k] = out_len[first:k][::-1].copy()
        for i in range(first, k):
            if out[i] == -1:
                out[i] = unk_id if unk_id >= 0 else -2
    out_starts[n] = k
    return out[:k], out_len[:k], out_starts


@njit(cache=True, nogil=True)
def usage_counts(ids, bounds, wcount, n_pieces):
    """Per piece: weighted uses in the Viterbi paths, and weighted count of words whose path uses it."""
    freq = np.zeros(n_pieces, np.float64)
    containing = np.zeros(n_pieces, np.float64)
    last = np.full(n_pieces, -1, np.int64)
    for w in range(bounds.size - 1):
        for k in range(bounds[w], bounds[w + 1]):
            p = ids[k]
            if p < 0:
                continue
            freq[p] += wcount[w]
            if last[p] != w:
                last[p] = w
                containing[p] += wcount[w]
    return freq, containing


@njit(cache=True, inline="always")
def _logaddexp(a, b):
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit(cache=True, nogil=True)
def _expected_range(lo, hi, cps, starts, wcount, tkeys, tvals, node_piece, scores, probs, linear_max, acc):
    """Forward-backward over words lo..hi, adding expected piece counts to `acc`; returns their log-likelihood.

    Words of at most `linear_max` characters run in probability space (every path's probability
    stays above the smallest double), longer ones in log space.
    """
    cap = 64
    e_from = np.empty(cap, np.int64)
    e_to = np.empty(cap, np.int64)
    e_piece = np.empty(cap, np.int64)
    alpha = np.empty(16, np.float64)
    beta = np.empty(16, np.float64)
    ll = 0.0
    for w in range(lo, hi):
        s = starts[w]
        m = starts[w + 1] - s
        if m == 0:
            continue
        if alpha.size < m + 1:
            alpha = np.empty(2 * m + 2, np.float64)
            beta = np.empty(2 * m + 2, np.float64)
        ne = 0
        for i in range(m):
            node = 0
            for j in range(i, m):
                node = _child(tkeys, tvals, node, cps[s + j])
                if node < 0:
                    break
                p = node_piece[node]
                if p >= 0:
                    if ne >= cap:
                        cap *= 2
                        a2 = np.empty(cap, np.int64)
                        a2[:ne] = e_from[:ne]
                        e_from = a2
                        b2 = np.empty(cap, np.int64)
                        b2[:ne] = e_to[:ne]
                        e_to = b2
                        c2 = np.empty(cap, np.int64)
                        c2[:ne] = e_piece[:ne]
                        e_piece = c2
                    e_from[ne] = i
                    e_to[ne] = j + 1
                    e_piece[ne] = p
                    ne += 1
        wc = wcount[w]
        if m <= linear_max:
            # short word: probabilities cannot underflow, so no logs or exps per edge
            for i in range(m + 1):
                alpha[i] = 0.0
                beta[i] = 0.0
            alpha[0] = 1.0
            beta[m] = 1.0
            for e in range(ne):  # edges are sorted by start
                alpha[e_to[e]] += alpha[e_from[e]] * probs[e_piece[e]]
            for e in range(ne - 1, -1, -1):
                beta[e_from[e]] += beta[e_to[e]] * probs[e_piece[e]]
            z = alpha[m]
            if z <= 0.0:
                continue
            ll += wc * math.log(z)
            for e in range(ne):
                acc[e_piece[e]] += wc * alpha[e_from[e]] * probs[e_piece[e]] * beta[e_to[e]] / z
            continue
        for i in range(m + 1):
            alpha[i] = _NEG_INF
            beta[i] = _NEG_INF
        alpha[0] = 0.0
        beta[m] = 0.0
        for e in range(ne):  # edges are sorted by start
            alpha[e_to[e]] = _logaddexp(alpha[e_to[e]], alpha[e_from[e]] + scores[e_piece[e]])
        for e in range(ne - 1, -1, -1):
            beta[e_from[e]] = _logaddexp(beta[e_from[e]], beta[e_to[e]] + scores[e_piece[e]])
        z = alpha[m]
        if z == _NEG_INF:
            continue
        ll += wc * z
        for e in range(ne):
            acc[e_piece[e]] += wc * math.exp(alpha[e_from[e]] + scores[e_piece[e]] + beta[e_to[e]] - z)
    return ll


@njit(cache=True, parallel=True)
def expected_counts(cps, starts, wcount, tkeys, tvals, node_piece, scores, n_chunks):
    """E-step: each piece's expected count over all words (forward-backward on each word's lattice).

    Returns (expected counts, log-likelihood of the corpus). Words are split into `n_chunks`
    ranges processed in parallel, each with its own accumulator row.
    """
    n = starts.size - 1
    acc = np.zeros((n_chunks, scores.size), np.float64)
    ll = np.zeros(n_chunks, np.float64)
    probs = np.exp(scores)
    worst = max(1.0, -scores.min()) if scores.size else 1.0
    linear_max = int(600.0 / worst)
    for c in prange(n_chunks):
        ll[c] = _expected_range(n * c // n_chunks, n * (c + 1) // n_chunks, cps, starts, wcount, tkeys, tvals, node_piece, scores, probs, linear_max, acc[c])
    total = np.zeros(scores.size, np.float64)
    for c in range(n_chunks):
        total += acc[c]
    return total, ll.sum()


def expected_counts_reference(words: list[str], counts: list[int], pieces: dict[str, float]) -> tuple[dict[str, float], float]:
    """Reference E-step: enumerate lattice edges with dict lookups, forward-backward in log space."""
    expected: dict[str, float] = {}
    total_ll = 0.0
    max_len = max(len(p) for p in pieces)
    for word, wc in zip(words, counts):
        m = len(word)
        edges = [(i, j, word[i:j]) for i in range(m) for j in range(i + 1, min(m, i + max_len) + 1) if word[i:j] in pieces]
        alpha = [-math.inf] * (m + 1)
        beta = [-math.inf] * (m + 1)
        alpha[0] = 0.0
        beta[m] = 0.0
        for i, j, p in edges:
            alpha[j] = np.logaddexp(alpha[j], alpha[i] + pieces[p])
        for i, j, p in reversed(edges):
            beta[i] = np.logaddexp(beta[i], beta[j] + pieces[p])
        z = alpha[m]
        if z == -math.inf:
            continue
        total_ll += wc * z
        for i, j, p in edges:
            expected[p] = expected.get(p, 0.0) + wc * math.exp(alpha[i] + pieces[p] + beta[j] - z)
    return expected, total_ll


def viterbi_reference(word: str, pieces: dict[str, float], unk_score: float) -> list[tuple[str, bool]]:
    """Reference Viterbi for one word: (piece, is_unknown) list, consecutive unknowns fused."""
    m = len(word)
    best: list[float | None] = [None] * (m + 1)
    back = [(-1, "", False)] * (m + 1)
    best[0] = 0.0
    for i in range(m):
        if best[i] is None:
            continue
        single = False
        for j in range(i + 1, m + 1):
            p = word[i:j]
            if p in pieces:
                cand = best[i] + pieces[p]
                if best[j] is None or cand > best[j]:
                    best[j] = cand
                    back[j] = (i, p, False)
                single = single or j == i + 1
        if not single:
            cand = best[i] + unk_score
            if best[i + 1] is None or cand > best[i + 1]:
                best[i + 1] = cand
                back[i + 1] = (i, word[i], True)
    out: list[tuple[str, bool]] = []
    end = m
    while end > 0:
        i, p, unk = back[end]
        if unk and out and out[-1][1]:
            out[-1] = (p + out[-1][0], True)
        else:
            out.append((p, unk))
        end = i
    return out[::-1]


@njit(cache=True, nogil=True)
def _substring_walk(cps, classes, starts, weights, max_len, marker, table_keys, table_vals, hashes_out, where_out, first_where, next_seen, weighted_counts):
    """Visit every candidate seed substring: 2..max_len characters, the marker only first and,
    when `classes` (a script class per position, see scripts.py) is not empty, one script per
    substring with ALONE (-2) characters never inside one.

    With the hash table (`table_keys`/`table_vals`: hash -> index, from table_kernels.build_table)
    empty, write each substring's 64-bit hash to hashes_out (and position << 8 | length to
    where_out when it has room); otherwise record in first_where[index] the first position of
    each hash in the table and, when `next_seen` has room, what follows the substring: next_seen
    holds (index) the first following code point (-1: the word's end) until a second, different
    one is seen, then -2 (the substring is right-branching). Returns how many substrings there are.

    With `weights` (one per word), hashes keep 62 bits and the lowest bit of each written hash
    says whether its word weighs 2 or more, and the locating walk adds each word's weight to
    weighted_counts[index].
    """
    track = next_seen.size > 0
    weighted = weights.size > 0
    shift = np.uint64(2) if weighted else np.uint64(1)
    k = 0
    locate = table_keys.size > 0
    fill = hashes_out.size > 0
    check = classes.size > 0
    for w in range(starts.size - 1):
        s = starts[w]
        m = starts[w + 1] - s
        for i in range(m):
            if i > 0 and cps[s + i] == marker:
                continue
            previous = -1
            if check and cps[s + i] != marker:
                previous = classes[s + i]
                if previous == -2:
                    continue
            h = np.uint64(14695981039346656037)
            h = (h ^ np.uint64(cps[s + i])) * np.uint64(1099511628211)
            for j in range(i + 1, min(m, i + max_len)):
                c = cps[s + j]
                if c == marker:
                    break
                if check:
                    cls = classes[s + j]
                    if cls == -2 or (cls >= 0 and previous >= 0 and cls != previous):
                        break
                    if cls >= 0:
                        previous = cls
                h = (h ^ np.uint64(c)) * np.uint64(1099511628211)
                key = np.int64(h >> shift)
                if locate:
                    idx = lookup(table_keys, table_vals, key)
                    if idx >= 0:
                        if first_where[idx] == -1:
                            first_where[idx] = ((s + i) << 8) | (j - i + 1)
                        if weighted:
                            weighted_counts[idx] += weights[w]
                        if track:
                            following = np.int64(cps[s + j + 1]) if j + 1 < m else np.int64(-1)
                            seen = next_seen[idx]
                            if seen == -3:
                                next_seen[idx] = following
                            elif seen != -2 and seen != following:
                                next_seen[idx] = -2
                elif fill:
                    hashes_out[k] = (key << 1) | (1 if weights[w] >= 2 else 0) if weighted else key
                    if where_out.size > 0:
                        where_out[k] = ((s + i) << 8) | (j - i + 1)
                k += 1
    return k


_EMPTY = np.empty(0, np.int64)
_EMPTY_I32 = np.empty(0, np.int32)
_EMPTY_F64 = np.empty(0, np.float64)


def substring_hashes(cps: np.ndarray, starts: np.ndarray, max_len: int, marker: int) -> tuple[np.ndarray, np.ndarray]:
    """Hash and (position << 8 | length) of every candidate seed substring (for tests and small inputs)."""
    n = _substring_walk(cps, _EMPTY_I32, starts, _EMPTY_F64, max_len, marker, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY_F64)
    hashes = np.empty(n, np.int64)
    where = np.empty(n, np.int64)
    _substring_walk(cps, _EMPTY_I32, starts, _EMPTY_F64, max_len, marker, _EMPTY, _EMPTY, hashes, where, _EMPTY, _EMPTY, _EMPTY_F64)
    return hashes, where


def shared_substrings(
    cps: np.ndarray,
    starts: np.ndarray,
    max_len: int,
    marker: int,
    min_count: int = 2,
    classes: np.ndarray = _EMPTY_I32,
    right_branching: bool = False,
    weights: np.ndarray = _EMPTY_F64,
) -> tuple[np.ndarray, np.ndarray]:
    """Substrings occurring at least `min_count` times: (position << 8 | length, occurrences).
    `classes`: script class per position of `cps` (empty: no script rule). With `right_branching`,
    only substrings followed by at least two different things (characters, or a word's end)
    among their occurrences: the internal nodes of the words' suffix tree, which is what
    SentencePiece's suffix-array seeding enumerates (a substring always followed by the same
    character is a prefix of a longer candidate with the same occurrences). With `weights` (one
    per word, integers >= 1: the words' counts), occurrences are counted in the corpus the words
    come from (float64), as SentencePiece counts them in its sentences.

    Memory: one int64 per candidate substring (sorted in place), then O(shared substrings).
    """
    n = _substring_walk(cps, classes, starts, weights, max_len, marker, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY_F64)
    hashes = np.empty(n, np.int64)
    _substring_walk(cps, classes, starts, weights, max_len, marker, _EMPTY, _EMPTY, hashes, _EMPTY, _EMPTY, _EMPTY, _EMPTY_F64)
    hashes.sort()
    keys, counts = _runs(hashes, min_count, weights.size > 0)
    del hashes
    first = np.full(keys.size, -1, np.int64)
    next_seen = np.full(keys.size if right_branching else 0, -3, np.int64)
    weighted = np.zeros(keys.size if weights.size > 0 else 0, np.float64)
    table_keys, table_vals = build_table(keys, np.arange(keys.size, dtype=np.int64))
    _substring_walk(cps, classes, starts, weights, max_len, marker, table_keys, table_vals, _EMPTY, _EMPTY, first, next_seen, weighted)
    keep = np.ones(keys.size, np.bool_)
    if weights.size > 0:
        counts = weighted
        keep &= counts >= min_count
    if right_branching:
        keep &= next_seen == -2
    return first[keep], counts[keep]


@njit(cache=True, nogil=True)
def _runs(sorted_keys, min_count, flagged):
    """Distinct values of a sorted array that repeat at least min_count times, and their counts.

    `flagged`: the lowest bit of each value is a flag, not part of it; a value with any flagged
    copy is kept however often it repeats (its flag is dropped from the returned value).
    """
    n = sorted_keys.size
    keys = np.empty(n, np.int64)
    counts = np.empty(n, np.int64)
    k = 0
    i = 0
    shift = 1 if flagged else 0
    while i < n:
        value = sorted_keys[i] >> shift
        any_flag = False
        j = i
        while j < n and sorted_keys[j] >> shift == value:
            any_flag = any_flag or (flagged and (sorted_keys[j] & 1) == 1)
            j += 1
        if j - i >= min_count or any_flag:
            keys[k] = value
            counts[k] = j - i
            k += 1
        i = j
    return keys[:k].copy(), counts[:k].copy()


def substring_counts_reference(
    words: list[str], max_len: int, marker: str, classes: dict[str, int] | None = None, right_branching: bool = False, weights: list[int] | None = None
) -> dict[str, int]:
    """Reference for `substring_hashes`: occurrences of each candidate substring among the words
    (with `classes`, only substrings `scripts.is_valid_piece` accepts; with `right_branching`,
    only those repeated with two different followers, a word's end counting as one)."""
    from corpuskit.tokenizers.scripts import is_valid_piece

    counts: dict[str, int] = {}
    followers: dict[str, set[str]] = {}
    for k, word in enumerate(words):
        for i in range(len(word)):
            if i > 0 and word[i] == marker:
                continue
            for j in range(i + 2, min(len(word), i + max_len) + 1):
                if word[j - 1] == marker:
                    break
                if classes is not None and not is_valid_piece(word[i:j], classes, marker):
                    continue
                counts[word[i:j]] = counts.get(word[i:j], 0) + (weights[k] if weights is not None else 1)
                followers.setdefault(word[i:j], set()).add(word[j] if j < len(word) else "")
    if right_branching:
        return {sub: n for sub, n in counts.items() if n >= 2 and len(followers[sub]) >= 2}
    return counts
