"""Numba kernels that split UTF-8 lines into words and map them to ids through a byte-string hash.

This is the tokenisation KenLM does: lines end at '\\n', words are separated by ASCII
whitespace (space, tab, CR, VT, FF). Working on bytes avoids a Python call per token; the
plain-Python reference is `Vocabulary.encode_python` in vocab.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _fnv1a(buf, start, stop):
    h = np.uint64(14695981039346656037)
    for i in range(start, stop):
        h ^= np.uint64(buf[i])
        h *= np.uint64(1099511628211)
    return h


@njit(cache=True, inline="always")
def _prefix8(buf, start, stop):
    """The first (up to) 8 bytes of buf[start:stop] as one little-endian integer."""
    v = np.uint64(0)
    for i in range(min(stop - start, 8)):
        v |= np.uint64(buf[start + i]) << np.uint64(8 * i)
    return v


@njit(cache=True, inline="always")
def _lookup(table, word_bytes, word_start, buf, start, stop):
    """(word id, slot): the id of buf[start:stop], or -1 and the empty slot where it would go."""
    return _lookup_hashed(table, word_bytes, word_start, buf, start, stop, _fnv1a(buf, start, stop), _prefix8(buf, start, stop))


@njit(cache=True, inline="always")
def _lookup_hashed(table, word_bytes, word_start, buf, start, stop, h, prefix):
    """`_lookup` with the word's hash and 8-byte prefix already computed.

    table[slot] = ((id + 1) << 32 | length, first 8 bytes); 0 marks an empty slot. Words of at
    most 8 bytes are recognised from the entry alone, longer ones are checked in word_bytes.
    """
    mask = np.uint64(table.shape[0] - 1)
    slot = (h ^ (h >> np.uint64(29))) & mask
    length = np.uint64(stop - start)
    while True:
        entry = table[slot, 0]
        if entry == 0:
            return np.int64(-1), slot
        if (entry & np.uint64(0xFFFFFFFF)) == length and table[slot, 1] == prefix:
            w = np.int64(entry >> np.uint64(32)) - 1
            if stop - start <= 8:
                return w, slot
            a = word_start[w]
            same = True
            for i in range(8, stop - start):
                if word_bytes[a + i] != buf[start + i]:
                    same = False
                    break
            if same:
                return w, slot
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, inline="always")
def _store(table, slot, w, buf, start, stop):
    table[slot, 0] = (np.uint64(w + 1) << np.uint64(32)) | np.uint64(stop - start)
    table[slot, 1] = _prefix8(buf, start, stop)


@njit(cache=True)
def rebuild_table(word_bytes, word_start, n_words, capacity):
    """A fresh word hash of `capacity` slots (a power of two) over words 0..n_words-1."""
    table = np.zeros((capacity, 2), dtype=np.uint64)
    for w in range(n_words):
        _, slot = _lookup(table, word_bytes, word_start, word_bytes, word_start[w], word_start[w + 1])
        _store(table, slot, w, word_bytes, word_start[w], word_start[w + 1])
    return table


@njit(cache=True, nogil=True)
def encode_lines(buf, table, word_bytes, word_start, n_words, grow, skip_specials, out_ids, out_lengths):
    """Word ids of the '\\n'-separated lines in `buf` and each line's word count.

    Unknown words get new ids when `grow` (the caller guarantees room in table, word_bytes and
    word_start), else 0 (`<unk>`). With `skip_specials`, ids 0-2 (`<unk>`, `<s>`, `</s>`) found
    in the text are dropped, as lmplz does. Returns (tokens, lines, words in the vocabulary).
    """
    n = buf.shape[0]
    n_tok = 0
    line = 0
    count = 0
    start = -1
    h = np.uint64(0)
    prefix = np.uint64(0)
    for i in range(n + 1):
        c = buf[i] if i < n else 10
        if c == 32 or c == 9 or c == 10 or c == 13 or c == 11 or c == 12:
            if start >= 0:
                w, slot = _lookup_hashed(table, word_bytes, word_start, buf, start, i, h, prefix)
                if w < 0:
                    if grow:
                        w = n_words
                        _store(table, slot, w, buf, start, i)
                        a = word_start[w]
                        for j in range(i - start):
                            word_bytes[a + j] = buf[start + j]
                        word_start[w + 1] = a + i - start
                        n_words += 1
                    else:
                        w = 0
                if not (skip_specials and w < 3):
                    out_ids[n_tok] = w
                    n_tok += 1
                    count += 1
                start = -1
            if c == 10:
                out_lengths[line] = count
                line += 1
                count = 0
        else:
            if start < 0:
                start = i
                h = np.uint64(14695981039346656037)
                prefix = np.uint64(0)
            h = (h ^ np.uint64(c)) * np.uint64(1099511628211)
            if i - start < 8:
                prefix |= np.uint64(c) << np.uint64(8 * (i - start))
    return n_tok, line, n_words
