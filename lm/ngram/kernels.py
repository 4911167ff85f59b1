"""Numba kernels for n-gram counting, trie building and scoring; the references live in `reference.py`.

Versions (each tested against its plain-Python reference in tests/lm/test_kernels.py):
1. `count_rows`: hash-count the "maximal n-grams" of a chunk of sentences (one per token, the
   n-gram of at most `order` words ending there, never reaching before `<s>`), lmplz's unit,
   into `corpuskit.spill`'s table (which also spills and merges the sorted runs).
2. `build_trie`: turn counted rows into trie nodes (parent, word, suffix link, raw count).
3. `build_child_table` / `score_tokens`: (parent node, word) -> node hash and backoff scoring;
   `advance_contexts` runs the same loop for decoding rows.
Memory of each is stated in its docstring.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.hashing import fmix64
from corpuskit.spill import insert_row

EMPTY = np.int64(-1)


@njit(cache=True, nogil=True)
def count_rows(ids, lengths, order, table, rows, counts, n_rows):
    """Add the maximal n-grams of sentences `ids` (flat, split by `lengths`) to a `SpillCounter` table.

    rows[r] holds one n-gram right-aligned with -1 padding on the left; `<s>` (id 1) is the
    implicit first word of every sentence and `</s>` (id 2) the last. `table`, `rows` and
    `counts` are `corpuskit.spill.SpillCounter`'s, with room for one row per token (the counter's
    `add` reserves it). Returns the new number of rows. Memory: O(distinct maximal n-grams).
    """
    window = np.full(order, -1, dtype=np.int32)
    pos = 0
    for s in range(lengths.shape[0]):
        window[:] = -1
        window[order - 1] = 1
        n = lengths[s]
        for i in range(n + 1):
            word = ids[pos + i] if i < n else 2
            for k in range(order - 1):
                window[k] = window[k + 1]
            window[order - 1] = word
            n_rows = insert_row(table, rows, counts, n_rows, window, 1)
        pos += n
    return n_rows


@njit(cache=True, inline="always")
def _child_slot(table, parent, word, vocab_size):
    """Slot of key (parent, word) in `table` (capacity x 2: key + 1, node; 0 = empty, so zeros is empty)."""
    key = parent * vocab_size + word + 1
    mask = np.uint64(table.shape[0] - 1)
    slot = fmix64(np.uint64(key)) & mask
    while table[slot, 0] != 0 and table[slot, 0] != key:
        slot = (slot + np.uint64(1)) & mask
    return slot, key


@njit(cache=True)
def find_child(table, parent, word, vocab_size):
    """The node (parent, word), or -1. Unigram nodes are the word ids themselves (parent -1).

    In a scoring table (see `fill_child_table`) a node without children is stored as ~node.
    """
    if parent < 0:
        return np.int64(word) if 0 <= word < vocab_size else np.int64(-1)
    slot, key = _child_slot(table, parent, word, vocab_size)
    if table[slot, 0] != key:
        return np.int64(-1)
    node = table[slot, 1]
    return node if node >= 0 else ~node


@njit(cache=True, nogil=True)
def build_trie(rows, counts, vocab_size, table, parent, word, suffix, raw, n_nodes):
    """Insert every suffix of every row (and the prefix chain that reaches it) as trie nodes.

    Nodes 0..vocab_size-1 are the unigrams. Each n-gram gets its raw count (the sum over the
    rows it ends: each occurrence ends exactly one maximal n-gram) and a suffix link (node of
    w2..wk). `table` is the (parent, word) -> node hash, sized by the caller for the worst case.
    Known chains are reached through suffix links, so a row costs about `order` hash probes.
    Returns the number of nodes. Memory: O(distinct n-grams of all orders).
    """
    order = rows.shape[1]
    here = np.full((order, order), -1, dtype=np.int64)  # here[j, k]: node of row[j..k]
    found_to = np.empty(order, dtype=np.int64)  # row[j..found_to[j]] existed before this row
    for r in range(rows.shape[0]):
        s = 0
        while rows[r, s] < 0:
            s += 1
        # 1. from the longest suffix level down, find what exists; a level whose chain reaches
        #    the row's end means every deeper level does too (suffixes of n-grams exist)
        last = order - 1
        for j in range(s, order):
            if j == s or found_to[j - 1] < j:
                k0 = j
                node = np.int64(rows[r, j])
            else:
                k0 = found_to[j - 1]
                node = suffix[here[j - 1, k0]]
            here[j, k0] = node
            k = k0 + 1
            while k < order:
                slot, key = _child_slot(table, node, rows[r, k], vocab_size)
                if table[slot, 0] != key:
                    break
                node = table[slot, 1]
                here[j, k] = node
                k += 1
            found_to[j] = k - 1
            if k == order:
                last = j
                break
        # 2. create what is missing, deepest level first so suffix links exist
        for j in range(last - 1, s - 1, -1):
            node = here[j, found_to[j]]
            for k in range(found_to[j] + 1, order):
                slot, key = _child_slot(table, node, rows[r, k], vocab_size)
                if table[slot, 0] == key:  # made a moment ago at a deeper level (repeated words)
                    node = table[slot, 1]
                else:
                    table[slot, 0] = key
                    table[slot, 1] = n_nodes
                    parent[n_nodes] = node
                    word[n_nodes] = rows[r, k]
                    suffix[n_nodes] = here[j + 1, k]
                    node = n_nodes
                    n_nodes += 1
                here[j, k] = node
        # 3. the row's count goes to each of its suffixes
        node = here[s, order - 1]
        while node >= 0:
            raw[node] += counts[r]
            node = suffix[node]
    return n_nodes


@njit(cache=True)
def fill_child_table(table, floats, parent, word, prob, backoff, has_children, vocab_size):
    """Fill the lookup hash: table[slot] = (key + 1, node, prob and backoff as two float32).

    `floats` is `table.view(np.float32)` (columns 4 and 5 are the third int64), so a lookup
    reads node, probability and backoff from one cache line. A node without children (and with
    backoff 0) is stored as ~node, so scoring drops it from the context as KenLM's state does and
    skips a probe that cannot match.
    Nodes vocab_size.. go in.
    """
    for node in range(vocab_size, parent.shape[0]):
        slot, key = _child_slot(table, parent[node], word[node], vocab_size)
        table[slot, 0] = key
        table[slot, 1] = node if has_children[node] else ~node
        floats[slot, 4] = prob[node]
        floats[slot, 5] = backoff[node]


def build_child_table(parent, word, prob, backoff, has_children, vocab_size, capacity):
    """The (parent, word) -> (node, prob, backoff) hash (capacity: a power of two > nodes)."""
    table = np.zeros((capacity, 3), dtype=np.int64)
    fill_child_table(table, table.view(np.float32), parent, word, prob, backoff, has_children, vocab_size)
    return table


@njit(cache=True, nogil=True)
def _score_sentences(first, last, ids, word_start, out_start, bos, eos, max_order, vocab_size, table, floats, prob, backoff,
                     unigram_has_children, out, out_order, start_nodes, start_lengths, end_nodes, end_lengths):
    """Score sentences first..last-1 (see `score_tokens`); KenLM's state step, the one copy of it.

    A sentence's context starts from start_nodes[s, :start_lengths[s]] when start_lengths[s] >= 0
    (else from `<s>` or nothing, as `bos` says) and, when end_lengths has a row per sentence, its
    final context is written to end_nodes[s] / end_lengths[s] (`advance_contexts`).
    """
    ctx = np.full(max_order, -1, dtype=np.int64)  # ctx[m]: node of the last m+1 words (with children)
    ctx_bo = np.zeros(max_order, dtype=np.float64)  # and its backoff
    new = np.full(max_order, -1, dtype=np.int64)
    new_bo = np.zeros(max_order, dtype=np.float64)
    new_extends = np.zeros(max_order, dtype=np.bool_)
    mask = np.uint64(table.shape[0] - 1)
    for s in range(first, last):
        n_ctx = 0
        if start_lengths.shape[0] > s and start_lengths[s] >= 0:
            n_ctx = start_lengths[s]
            for m in range(n_ctx):
                ctx[m] = start_nodes[s, m]
                ctx_bo[m] = backoff[start_nodes[s, m]]
        elif bos and max_order > 1:
            ctx[0] = 1
            ctx_bo[0] = backoff[1]
            n_ctx = 1
        pos = word_start[s]
        n = word_start[s + 1] - pos
        o = out_start[s]
        total = n + 1 if eos else n
        for i in range(total):
            w = ids[pos + i] if i < n else 2
            new[0] = w
            new_bo[0] = backoff[w]
            new_extends[0] = unigram_has_children[w]
            score = np.float64(prob[w])
            found = 1
            while found < max_order and found - 1 < n_ctx:
                key = ctx[found - 1] * vocab_size + w + 1
                slot = fmix64(np.uint64(key)) & mask
                while table[slot, 0] != 0 and table[slot, 0] != key:
                    slot = (slot + np.uint64(1)) & mask
                if table[slot, 0] != key:
                    break
                node = table[slot, 1]
                new[found] = node if node >= 0 else ~node
                new_extends[found] = node >= 0
                score = np.float64(floats[slot, 4])
                new_bo[found] = floats[slot, 5]
                found += 1
            for m in range(found - 1, n_ctx):
                score += ctx_bo[m]
            out[o + i] = score
            out_order[o + i] = found
            limit = min(found, max_order - 1)
            n_ctx = 0
            while n_ctx < limit and new_extends[n_ctx]:  # a context without children never matches
                ctx[n_ctx] = new[n_ctx]
                ctx_bo[n_ctx] = new_bo[n_ctx]
                n_ctx += 1
        if end_lengths.shape[0] > s:
            end_lengths[s] = n_ctx
            for m in range(end_nodes.shape[1]):
                end_nodes[s, m] = ctx[m] if m < n_ctx else -1


@njit(cache=True, nogil=True)
def advance_contexts(nodes, lengths, ids, starts, max_order, vocab_size, table, floats, prob, backoff, unigram_has_children,
                     out, out_order):
    """Move each row's context past its words ids[starts[r]:starts[r + 1]], in place (decoding state).

    nodes[r, m] is the node of row r's last m+1 words, lengths[r] how many are kept (at most
    max_order - 1, up to the first without children and backoff 0, as KenLM's state); out /
    out_order get each word's log10 p and matched n-gram length. The scorer's own loop does the
    work, so decoding and `score_tokens` cannot disagree. Memory: O(rows) besides the arrays.
    """
    _score_sentences(0, nodes.shape[0], ids, starts, starts, False, False, max_order, vocab_size, table, floats, prob, backoff,
                     unigram_has_children, out, out_order, nodes.copy(), lengths.copy(), nodes, lengths)


@njit(cache=True, nogil=True)
def score_tokens(ids, lengths, bos, eos, max_order, vocab_size, table, floats, prob, backoff, unigram_has_children, out, out_order):
    """log10 p of every scored token with backoff (KenLM's semantics), and the n-gram order used.

    A sentence scores its words, plus `</s>` when `eos`; its context starts with `<s>` when
    `bos`, else empty. OOV ids are 0 (`<unk>`). Serial: on a shared 2-core machine threads
    measured slower (the lookups are memory-bound). Memory: O(sentences) besides the outputs.
    Returns the number of scored tokens.
    """
    n_sent = lengths.shape[0]
    word_start = np.zeros(n_sent + 1, dtype=np.int64)
    out_start = np.zeros(n_sent + 1, dtype=np.int64)
    for s in range(n_sent):
        word_start[s + 1] = word_start[s] + lengths[s]
        out_start[s + 1] = out_start[s] + lengths[s] + (1 if eos else 0)
    no_rows = np.zeros(0, dtype=np.int64)
    no_nodes = np.zeros((0, 1), dtype=np.int64)
    _score_sentences(0, n_sent, ids, word_start, out_start, bos, eos, max_order, vocab_size, table, floats, prob, backoff,
                     unigram_has_children, out, out_order, no_nodes, no_rows, no_nodes, no_rows)
    return out_start[n_sent]


@njit(cache=True)
def node_orders(parent, word, vocab_size):
    """Order and first word of every node (parents are numbered before their children)."""
    n = parent.shape[0]
    order = np.ones(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int32)
    for i in range(n):
        if i < vocab_size:
            first[i] = word[i]
        else:
            order[i] = order[parent[i]] + 1
            first[i] = first[parent[i]]
    return order, first


@njit(cache=True)
def renumber_nodes(parent_row, word, node_order, max_order, vocab_size):
    """New ids ordering nodes by (order, new id of parent, word); rows 0..V-1 are the unigrams.

    Two stable counting sorts per order (by word, then by parent), so O(nodes + vocabulary).
    Returns new ids and the first id of each order (offsets, length max_order + 1).
    """
    n = parent_row.shape[0]
    starts = np.zeros(max_order + 2, dtype=np.int64)  # starts[k]: first new id of order k
    for i in range(n):
        starts[node_order[i] + 1] += 1
    for k in range(1, max_order + 2):
        starts[k] += starts[k - 1]
    grouped = np.empty(n, dtype=np.int64)
    fill = starts.copy()
    for i in range(n):
        k = node_order[i]
        grouped[fill[k]] = i
        fill[k] += 1
    new_id = np.full(n, -1, dtype=np.int64)
    for i in range(vocab_size):
        new_id[i] = i
    for k in range(2, max_order + 1):
        a, b = starts[k], starts[k + 1]
        count = np.zeros(vocab_size + 1, dtype=np.int64)
        for t in range(a, b):
            count[word[grouped[t]] + 1] += 1
        for w in range(vocab_size):
            count[w + 1] += count[w]
        by_word = np.empty(b - a, dtype=np.int64)
        for t in range(a, b):
            r = grouped[t]
            by_word[count[word[r]]] = r
            count[word[r]] += 1
        pa, pb = starts[k - 1], starts[k]
        count = np.zeros(pb - pa + 1, dtype=np.int64)
        for r in by_word:
            count[new_id[parent_row[r]] - pa + 1] += 1
        for p in range(pb - pa):
            count[p + 1] += count[p]
        for r in by_word:
            p = new_id[parent_row[r]] - pa
            new_id[r] = a + count[p]
            count[p] += 1
    return new_id, starts[1:]


@njit(cache=True, inline="always")
def _write_decimal(buf, pos, value):
    """Write `value` with at most 6 decimals, trailing zeros dropped ('-1.25', '0', '-99')."""
    negative = value < 0
    scaled = np.int64((-value if negative else value) * 1e6 + 0.5)
    if scaled == 0:
        buf[pos] = 48
        return pos + 1
    if negative:
        buf[pos] = 45
        pos += 1
    integer = scaled // 1000000
    fraction = scaled % 1000000
    digits = 1
    probe = integer
    while probe >= 10:
        probe //= 10
        digits += 1
    for i in range(digits - 1, -1, -1):
        buf[pos + i] = 48 + integer % 10
        integer //= 10
    pos += digits
    if fraction:
        buf[pos] = 46
        pos += 1
        places = 6
        while fraction % 10 == 0:
            fraction //= 10
            places -= 1
        for i in range(places - 1, -1, -1):
            buf[pos + i] = 48 + fraction % 10
            fraction //= 10
        pos += places
    return pos


@njit(cache=True, nogil=True)
def format_arpa_lines(start, stop, order, parent, word, prob, backoff, with_backoff, word_bytes, word_start):
    """ARPA lines 'prob<TAB>w1 ... wk[<TAB>backoff]' of nodes start..stop-1 (one order), as UTF-8 bytes.

    Memory: O(bytes of these lines); the caller writes the file in chunks of nodes.
    """
    size = 0
    for node in range(start, stop):
        at = node
        while at >= 0:
            w = word[at]
            size += word_start[w + 1] - word_start[w] + 1
            at = parent[at]
        size += 64
    buf = np.empty(size, dtype=np.uint8)
    ids = np.empty(order, dtype=np.int64)
    pos = 0
    for node in range(start, stop):
        pos = _write_decimal(buf, pos, np.float64(prob[node]))
        buf[pos] = 9
        pos += 1
        at = node
        for i in range(order - 1, -1, -1):
            ids[i] = word[at]
            at = parent[at]
        for i in range(order):
            if i:
                buf[pos] = 32
                pos += 1
            w = ids[i]
            for b in range(word_start[w], word_start[w + 1]):
                buf[pos] = word_bytes[b]
                pos += 1
        if with_backoff:
            buf[pos] = 9
            pos += 1
            pos = _write_decimal(buf, pos, np.float64(backoff[node]))
        buf[pos] = 10
        pos += 1
    return buf[:pos]


@njit(cache=True)
def insert_ngrams(ids, table, parent, word, n_nodes, vocab_size):
    """Add the n-grams `ids` (rows of word ids, one order) as children of their listed prefixes.

    Returns (new node count, -1) or (node count so far, index of the first row whose prefix is
    missing or that repeats an n-gram) so the caller can report that line.
    """
    k = ids.shape[1]
    for r in range(ids.shape[0]):
        node = np.int64(ids[r, 0])
        for i in range(1, k - 1):
            slot, key = _child_slot(table, node, ids[r, i], vocab_size)
            if table[slot, 0] != key:
                return n_nodes, r
            node = table[slot, 1]
        slot, key = _child_slot(table, node, ids[r, k - 1], vocab_size)
        if table[slot, 0] == key:
            return n_nodes, r
        table[slot, 0] = key
        table[slot, 1] = n_nodes
        parent[n_nodes] = node
        word[n_nodes] = ids[r, k - 1]
        n_nodes += 1
    return n_nodes, np.int64(-1)


@njit(cache=True)
def counts_of_counts(adjusted, node_order, max_order):
    """coc[k, j]: how many n-grams of order k have (adjusted) count j, for j = 0..4."""
    coc = np.zeros((max_order + 1, 5), dtype=np.int64)
    for i in range(adjusted.shape[0]):
        if adjusted[i] < 5:
            coc[node_order[i], adjusted[i]] += 1
    return coc


@njit(cache=True, nogil=True)
def kneser_ney(parent, suffix, node_order, adjusted, pruned, discount, vocab_size, max_order, log_zero):
    """Interpolated (modified) Kneser-Ney as lmplz: log10 probability and backoff of every node.

    discount[k, min(count, 3)] is the discount of an order-k n-gram. Pruned n-grams give their
    whole count to their context's gamma. Nodes must be numbered after their parent and suffix
    (as `build_trie` does), so one pass interpolates every order. Reference: `estimate` with
    `engine="numpy"`. Memory: O(nodes).
    """
    n = parent.shape[0]
    root = n
    denominator = np.zeros(n + 1)
    left = np.zeros(n + 1)
    has_children = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        c = parent[i] if parent[i] >= 0 else root
        a = adjusted[i]
        denominator[c] += a
        if pruned[i]:
            left[c] += a
        else:
            left[c] += discount[node_order[i], min(a, 3)]
            if parent[i] >= 0:
                has_children[parent[i]] = True
    prob = np.empty(n)
    log_prob = np.empty(n)
    log_backoff = np.empty(n)
    uniform = 1.0 / (vocab_size - 1)
    gamma_root = left[root] / denominator[root] if denominator[root] > 0 else 0.0
    for i in range(n):
        c = parent[i] if parent[i] >= 0 else root
        a = adjusted[i]
        u = (a - discount[node_order[i], min(a, 3)]) / denominator[c] if denominator[c] > 0 else 0.0
        if parent[i] < 0:
            p = u + gamma_root * uniform
        else:
            p = u + left[c] / denominator[c] * prob[suffix[i]]
        if i == 1:
            p = 1.0
        prob[i] = p
        lp = min(np.log10(p), 0.0) if p > 0 else log_zero
        log_prob[i] = log_zero if i == 1 else max(lp, log_zero)
        b = 1.0
        if has_children[i] and node_order[i] < max_order and denominator[i] > 0:
            b = left[i] / denominator[i]
        log_backoff[i] = max(np.log10(b), log_zero) if b > 0 else log_zero
    return log_prob, log_backoff
