"""fastText's character n-grams and their hashing into buckets.

A word is wrapped as "<word>"; its n-grams are every run of minn..maxn characters, except the
lone boundary marks. Each n-gram's UTF-8 bytes are hashed with 32-bit FNV-1a exactly as fastText
does (each byte sign-extended first), then taken modulo `bucket`, so bucket rows line up with a
fastText model trained with the same settings.
"""

from __future__ import annotations

import numpy as np

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619


def char_ngrams(word: str, minn: int, maxn: int) -> list[str]:
    """'ab', 2, 3 -> ['<a', '<ab', 'ab', 'ab>', 'b>']."""
    wrapped = f"<{word}>"
    grams = []
    for start in range(len(wrapped)):
        for n in range(minn, maxn + 1):
            end = start + n
            if end > len(wrapped):
                break
            if n == 1 and (start == 0 or end == len(wrapped)):
                continue
            grams.append(wrapped[start:end])
    return grams


def fnv1a_hash(text: str) -> int:
    """fastText's hash of a string (bytes sign-extended to int8 before mixing, as in its C++)."""
    h = FNV_OFFSET
    for byte in text.encode("utf-8", errors="surrogateescape"):
        h ^= (byte | 0xFFFFFF00) if byte >= 128 else byte
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def ngram_buckets(word: str, minn: int, maxn: int, bucket: int) -> list[int]:
    """Bucket rows of a word's n-grams (empty when bucket == 0 or maxn < minn)."""
    if bucket <= 0 or maxn < minn or maxn <= 0:
        return []
    return [fnv1a_hash(gram) % bucket for gram in char_ngrams(word, minn, maxn)]


def subword_table(words: list[str], minn: int, maxn: int, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR table of input rows per word: its own row i, then vocab_size + each n-gram bucket.

    Returns (offsets int64 of length V + 1, rows int32). Memory: O(V * n-grams per word).
    """
    size = len(words)
    offsets = np.zeros(size + 1, dtype=np.int64)
    rows: list[int] = []
    for i, word in enumerate(words):
        rows.append(i)
        rows.extend(size + b for b in ngram_buckets(word, minn, maxn, bucket))
        offsets[i + 1] = len(rows)
    return offsets, np.array(rows, dtype=np.int32)
