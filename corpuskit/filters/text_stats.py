"""Small text measurements shared by the quality rules: lines, paragraphs, words, duplicates.

Every function reads one document and keeps nothing: memory O(document).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np

_ASCII_PUNCTUATION = string.punctuation
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
TERMINAL_PUNCTUATION = (".", "!", "?", '"', "'", "\u201d", "\u2019", "\u2026", "\u3002", "\uff01", "\uff1f")


def lines_of(text: str) -> list[str]:
    """Non-blank lines, stripped: 'a\\n\\n b \\n' -> ['a', 'b']."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def paragraphs_of(text: str) -> list[str]:
    """Blocks separated by blank lines, stripped, blank ones left out."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def is_punctuation(char: str) -> bool:
    """Unicode punctuation or symbol (categories P* and S*)."""
    return unicodedata.category(char)[0] in "PS"


def strip_punctuation(word: str) -> str:
    """Punctuation and symbols removed from both ends: '"Hello!"' -> 'Hello'."""
    word = word.strip(_ASCII_PUNCTUATION)  # fast path; non-ASCII edges are checked below
    if not word or (word[0].isascii() and word[-1].isascii()):
        return word
    start, end = 0, len(word)
    while start < end and is_punctuation(word[start]):
        start += 1
    while end > start and is_punctuation(word[end - 1]):
        end -= 1
    return word[start:end]


def duplicate_stats(items: Sequence[str]) -> tuple[int, int]:
    """(number of items that repeat an earlier one, characters in those repeats)."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


class NgramStats:
    """Repeated word n-gram measures of one document, vectorised with NumPy.

    Words become integer ids once; each n-gram is a 64-bit polynomial hash of its ids (a
    collision would need two distinct n-grams of one document to agree on 64 bits). Equal to
    `top_ngram_char_fraction` / `duplicate_ngram_char_fraction`, the plain references.
    """

    _MULT = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, words: Sequence[str]) -> None:
        vocab: dict[str, int] = {}
        self.ids = np.fromiter((vocab.setdefault(w, len(vocab)) + 1 for w in words), dtype=np.uint64, count=len(words))
        self.lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        self.total = int(self.lengths.sum())
        self._prefix = np.concatenate([[0], np.cumsum(self.lengths)])

    def _counts(self, n: int) -> np.ndarray:
        """Per n-gram position: how often that n-gram occurs in the document."""
        m = len(self.ids) - n + 1
        hashes = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(n):
                hashes = hashes * self._MULT + self.ids[j : j + m]
        _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
        return counts[inverse.reshape(-1)]

    def top_fraction(self, n: int) -> float:
        if len(self.ids) < n or self.total == 0:
            return 0.0
        per_position = self._counts(n)
        first = int(np.argmax(per_position))  # the first occurrence of a most frequent n-gram
        count = int(per_position[first])
        if count < 2:
            return 0.0
        return int(self._prefix[first + n] - self._prefix[first]) * count / self.total

    def duplicate_fraction(self, n: int) -> float:
        if len(self.ids) < n or self.total == 0:
            return 0.0
        repeated = (self._counts(n) > 1).astype(np.int64)
        # word i is covered when one of the n-grams starting at i-n+1..i repeats
        covered = np.convolve(repeated, np.ones(n, dtype=np.int64))[: len(self.ids)] > 0
        return int(self.lengths[covered].sum()) / self.total


def top_ngram_char_fraction(words: Sequence[str], n: int) -> float:
    """Characters (of words) covered by the most frequent word n-gram, over all words' characters.

    Counts only an n-gram seen more than once. ['a','b','a','b'], 2 -> 'a b' twice: 4/4 = 1.0.
    """
    total = sum(len(w) for w in words)
    if len(words) < n or total == 0:
        return 0.0
    counts = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    gram, count = counts.most_common(1)[0]
    if count < 2:
        return 0.0
    return sum(len(w) for w in gram) * count / total


def duplicate_ngram_char_fraction(words: Sequence[str], n: int) -> float:
    """Characters of words covered by any word n-gram occurring more than once, each counted once.

    ['a','b','c','a','b'], 2 -> 'a b' repeats: words 0, 1, 3, 4 covered: 4/5 = 0.8.
    """
    total = sum(len(w) for w in words)
    if len(words) < n or total == 0:
        return 0.0
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    counts = Counter(grams)
    covered = bytearray(len(words))
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            covered[i : i + n] = b"\x01" * n
    return sum(len(w) for w, c in zip(words, covered) if c) / total


@lru_cache(maxsize=8)
def load_word_list(path: str | None, default: str) -> frozenset[str]:
    """Lower-cased entries of a word list file ('#' comments and blank lines skipped).

    `path` None reads `default` from corpuskit/filters/data/. Cached per process.
    """
    if path is None:
        text = resources.files("corpuskit.filters").joinpath("data", default).read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
