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
    return h ^ (h >> np.uint64(29))


@njit(cache=True, inline="always")
def _lookup(table, word_bytes, word_start, buf, start, stop):
    """(word id, slot): the id of buf[start:stop], or -1 and the empty slot where it would go."""
    mask = np.uint64(table.shape[0] - 1)
    slot = _fnv1a(buf, start, stop) & mask
    length = stop - start
    while True:
        w = table[slot]
        if w < 0:
            return np.int64(-1), slot
        a = word_start[w]
        if word_start[w + 1] - a == length:
            same = True
            for i in range(length):
                if word_bytes[a + i] != buf[start + i]:
                    same = False
                    break
            if same:
                return w, slot
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True)
def rebuild_table(word_bytes, word_start, n_words, capacity):
    """A fresh word hash of `capacity` slots (a power of two) over words 0..n_words-1."""
    table = np.full(capacity, -1, dtype=np.int64)
    for w in range(n_words):
        _, slot = _lookup(table, word_bytes, word_start, word_bytes, word_start[w], word_start[w + 1])
        table[slot] = w
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
    for i in range(n + 1):
        c = buf[i] if i < n else 10
        if c == 32 or c == 9 or c == 10 or c == 13 or c == 11 or c == 12:
            if start >= 0:
                w, slot = _lookup(table, word_bytes, word_start, buf, start, i)
                if w < 0:
                    if grow:
                        w = n_words
                        table[slot] = w
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
        elif start < 0:
            start = i
    return n_tok, line, n_words
