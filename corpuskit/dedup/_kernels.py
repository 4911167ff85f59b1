"""Numba kernels for MinHash signatures; plain references live in `corpuskit.dedup.signatures`.

Versions:
1. `signatures_from_bytes`: documents as single-space-joined UTF-8 words, concatenated; per
   document: FNV-1a word hashes -> word n-gram shingle hashes -> datasketch's "affine32"
   permutations -> minimum. One document per prange iteration, no Python objects.
2. `signatures_from_hashes`: the same permutations from precomputed 32-bit shingle hashes (used
   with SHA-1 shingle hashes for bit-exact datasketch signatures).

All arithmetic is unsigned and wraps, as datasketch's numpy arithmetic does: every literal is
a typed np.uint64 / np.uint32, because numba turns uint64-with-int64 arithmetic into float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from corpuskit.hashing import fmix64 as _fmix64

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_SHINGLE_SEED = np.uint64(0x9E3779B97F4A7C15)
_SHINGLE_MULT = np.uint64(0xBF58476D1CE4E5B9)
_MASK32 = np.uint64(0xFFFFFFFF)
_SPACE = np.uint8(32)


@njit(cache=True, nogil=True, inline="always")
def _fmix32(h):
    # h is a uint64 holding a 32-bit value; the result is masked back to 32 bits.
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _MASK32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _MASK32
    h ^= h >> np.uint64(16)
    return h


@njit(cache=True, nogil=True)
def _word_hashes(buf, start, end, out):
    """FNV-1a 64 of each space-separated word of buf[start:end]; returns the word count."""
    n_words = 0
    h = _FNV_OFFSET
    in_word = False
    for i in range(start, end):
        c = buf[i]
        if c == _SPACE:
            if in_word:
                out[n_words] = h
                n_words += 1
                in_word = False
                h = _FNV_OFFSET
        else:
            h = (h ^ np.uint64(c)) * _FNV_PRIME
            in_word = True
    if in_word:
        out[n_words] = h
        n_words += 1
    return n_words


@njit(cache=True, nogil=True, inline="always")
def _shingle_hash(words, start, stop):
    h = _SHINGLE_SEED
    for j in range(start, stop):
        h = (h ^ words[j]) * _SHINGLE_MULT
        h ^= h >> np.uint64(29)
    return _fmix64(h) >> np.uint64(32)


@njit(cache=True, nogil=True, inline="always")
def _permute_min(hv, a, b, sig_row):
    mixed = _fmix32(hv)
    for k in range(a.shape[0]):
        phv = np.uint32((np.uint64(a[k]) * mixed + np.uint64(b[k])) & _MASK32)
        if phv < sig_row[k]:
            sig_row[k] = phv


@njit(cache=True, nogil=True, parallel=True)
def signatures_from_bytes(buf, offsets, ngram, a, b, sig, n_shingles):
    """Fill sig[d] with the MinHash of document d = buf[offsets[d]:offsets[d+1]].

    A document of fewer than `ngram` words is one shingle of all its words; no words, no shingle
    (the row stays at 0xFFFFFFFF, datasketch's empty value).
    """
    n_docs = offsets.shape[0] - 1
    for d in prange(n_docs):
        start = offsets[d]
        end = offsets[d + 1]
        words = np.empty((end - start) // 2 + 1, dtype=np.uint64)
        n_words = _word_hashes(buf, start, end, words)
        for k in range(sig.shape[1]):
            sig[d, k] = np.uint32(0xFFFFFFFF)
        if n_words == 0:
            n_shingles[d] = 0
            continue
        if n_words < ngram:
            _permute_min(_shingle_hash(words, 0, n_words), a, b, sig[d])
            n_shingles[d] = 1
            continue
        count = n_words - ngram + 1
        for i in range(count):
            _permute_min(_shingle_hash(words, i, i + ngram), a, b, sig[d])
        n_shingles[d] = count


@njit(cache=True, nogil=True, parallel=True)
def signatures_from_hashes(hashes, offsets, a, b, sig):
    """Fill sig[d] with the MinHash of the 32-bit shingle hashes hashes[offsets[d]:offsets[d+1]]."""
    n_docs = offsets.shape[0] - 1
    for d in prange(n_docs):
        for k in range(sig.shape[1]):
            sig[d, k] = np.uint32(0xFFFFFFFF)
        for i in range(offsets[d], offsets[d + 1]):
            _permute_min(np.uint64(hashes[i]), a, b, sig[d])


@njit(cache=True, nogil=True, parallel=True)
def bottom_k_from_bytes(buf, offsets, ngram, out, lengths):
    """out[d, :lengths[d]] = the k smallest distinct shingle hashes of document d, ascending.

    Same word and shingle hashing as `signatures_from_bytes`; k = out.shape[1].
    """
    n_docs = offsets.shape[0] - 1
    k = out.shape[1]
    for d in prange(n_docs):
        start = offsets[d]
        end = offsets[d + 1]
        words = np.empty((end - start) // 2 + 1, dtype=np.uint64)
        n_words = _word_hashes(buf, start, end, words)
        if n_words == 0:
            lengths[d] = 0
            continue
        count = 1 if n_words < ngram else n_words - ngram + 1
        hashes = np.empty(count, dtype=np.uint32)
        if n_words < ngram:
            hashes[0] = np.uint32(_shingle_hash(words, 0, n_words))
        else:
            for i in range(count):
                hashes[i] = np.uint32(_shingle_hash(words, i, i + ngram))
        hashes.sort()
        n = 0
        for i in range(count):
            if n == k:
                break
            if i == 0 or hashes[i] != hashes[i - 1]:
                out[d, n] = hashes[i]
                n += 1
        lengths[d] = n
