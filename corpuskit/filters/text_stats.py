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
import regex

_ASCII_PUNCTUATION = string.punctuation
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Unicode's Sentence_Terminal characters (. ! ? 。 । ؟ ...) plus three Khmer signs datatrove's
# list also has (U+17D6, U+17D9, U+17DA). No quotes, no ellipsis character.
_ENDS_WITH_SENTENCE_TERMINAL = regex.compile(r"[\p{Sentence_Terminal}\u17d6\u17d9\u17da]\Z")

# A sentence ends after a run of terminators (closing quotes/brackets may follow) and whitespace.
_SENTENCE_BOUNDARY = regex.compile(r"(?P<end>\p{Sentence_Terminal}+)[\"'\u201d\u2019)\]\u00bb]*(?=\s+\S)")
# Tokens whose final period does not end a sentence: initials ("S."), dotted acronyms ("U.S.",
# "e.g."), and common English abbreviations (compared lower-cased, without the period).
_INITIALS = regex.compile(r"(?:\p{L}\.)*\p{L}")
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc inc ltd co corp gen gov sen rep rev mt no nos fig figs approx "
    "dept est vol pp jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun".split()
)


def lines_of(text: str) -> list[str]:
    """Non-blank lines, stripped: 'a\\n\\n b \\n' -> ['a', 'b']."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def paragraphs_of(text: str) -> list[str]:
    """Blocks separated by blank lines, stripped, blank ones left out."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def ends_with_sentence_terminal(line: str) -> bool:
    """Does `line` end in a sentence terminator of any script ('.', '!', '?', '。', '।', '؟', ...)?"""
    return _ENDS_WITH_SENTENCE_TERMINAL.search(line) is not None


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, rule-based and model-free (the way spaCy's sentencizer splits).

    A sentence ends after '.', '!', '?' or another Unicode sentence terminator (closing quotes and
    brackets stay with it) when whitespace follows, except after an initial or dotted acronym
    ("S. Kidman", "U.S. troops"), a listed abbreviation ("Mr. Smith") or an ellipsis ("...",
    "…"). Non-blank text is at least one sentence: 'Gone.' -> ['Gone.']; 'Prices fell' ->
    ['Prices fell']. O(len(text)).
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_BOUNDARY.finditer(text):
        marks = match.group("end")
        if marks.startswith(".."):
            continue  # an ellipsis '...' does not end a sentence
        if marks == ".":
            token_start = match.start()
            while token_start > 0 and not text[token_start - 1].isspace():
                token_start -= 1
            if _is_abbreviation(text[token_start : match.start()]):
                continue  # 'Mr.', 'S.', 'U.S.'
        end = match.end()
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    rest = text[start:].strip()
    if rest and sentences and not any(c.isalnum() for c in rest):
        sentences[-1] += " " + rest  # trailing punctuation alone ('Done. --') is no sentence
    elif rest:
        sentences.append(rest)
    return sentences


def _is_abbreviation(token: str) -> bool:
    word = token.lstrip("\"'(\u201c\u2018[")
    return bool(word) and (_INITIALS.fullmatch(word) is not None or word.lower() in ABBREVIATIONS)


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
    collision would need two distinct n-grams of one document to agree on 64 bits). Fractions are
    over `total_chars`, the document's length in characters (Gopher's "fraction of characters").
    Equal to `top_ngram_char_fraction`, `repeated_ngram_char_fraction` and
    `duplicate_ngram_char_fraction`, the plain references.
    """

    _MULT = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, words: Sequence[str], total_chars: int) -> None:
        vocab: dict[str, int] = {}
        self.ids = np.fromiter((vocab.setdefault(w, len(vocab)) + 1 for w in words), dtype=np.uint64, count=len(words))
        self.lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        self.total = total_chars
        self._prefix = np.concatenate([[0], np.cumsum(self.lengths)])

    def _hashes(self, n: int) -> np.ndarray:
        m = len(self.ids) - n + 1
        hashes = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(n):
                hashes = hashes * self._MULT + self.ids[j : j + m]
        return hashes

    def _counts(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(n-gram hash per position, how often that n-gram occurs in the document)."""
        hashes = self._hashes(n)
        _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
        return hashes, counts[inverse.reshape(-1)]

    def _gram_chars(self, start: int, n: int) -> int:
        return int(self._prefix[start + n] - self._prefix[start])

    def top_fraction(self, n: int) -> float:
        """Characters of the most frequent n-gram (words and the spaces between them; the first
        one seen among ties) times its count, over the document's characters."""
        if len(self.ids) < n or self.total <= 0:
            return 0.0
        per_position = self._counts(n)[1]
        first = int(np.argmax(per_position))  # the first occurrence of a most frequent n-gram
        count = int(per_position[first])
        return (self._gram_chars(first, n) + n - 1) * count / self.total

    def repeated_fraction(self, n: int) -> float:
        """Characters (of words) in n-grams that repeat an earlier one, scanning left to right and
        skipping past each repeat, over the document's characters: datatrove's reading, which
        FineWeb was built with. The first occurrence does not count. Time O(words); the Python
        loop visits only positions whose n-gram occurs more than once."""
        if len(self.ids) < n or self.total <= 0:
            return 0.0
        hashes, per_position = self._counts(n)
        relevant = np.flatnonzero(per_position > 1)
        if len(relevant) == 0:
            return 0.0
        seen: set[int] = set()
        repeated = 0
        next_visit = 0
        # Positions with a unique n-gram only advance the scan by one, so they can be skipped.
        for position, gram in zip(relevant.tolist(), hashes[relevant].tolist()):
            if position < next_visit:
                continue
            if gram in seen:
                repeated += self._gram_chars(position, n)
                next_visit = position + n
            else:
                seen.add(gram)
                next_visit = position + 1
        return repeated / self.total

    def duplicate_fraction(self, n: int) -> float:
        """Characters of words covered by any n-gram occurring more than once, first occurrences
        included and each word counted once, over the document's characters (the other reading)."""
        if len(self.ids) < n or self.total <= 0:
            return 0.0
        repeated = (self._counts(n)[1] > 1).astype(np.int64)
        # word i is covered when one of the n-grams starting at i-n+1..i repeats
        covered = np.convolve(repeated, np.ones(n, dtype=np.int64))[: len(self.ids)] > 0
        return int(self.lengths[covered].sum()) / self.total


def top_ngram_char_fraction(words: Sequence[str], n: int, total_chars: int) -> float:
    """Characters of the most frequent word n-gram (joined by spaces) times its count, over
    `total_chars`. Even a single occurrence counts (so a very short text scores high).

    ['a','b','a','b'], 2, 7 -> 'a b' (3 characters) twice: 6/7.
    """
    if len(words) < n or total_chars <= 0:
        return 0.0
    counts = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    gram, count = counts.most_common(1)[0]
    return len(" ".join(gram)) * count / total_chars


def repeated_ngram_char_fraction(words: Sequence[str], n: int, total_chars: int) -> float:
    """Characters of words in n-grams that repeat an earlier one (left-to-right scan that jumps
    past each repeat), over `total_chars`.

    ['a','b','c','a','b'], 2, 9 -> 'a b' at 3 repeats the one at 0: 2/9.
    """
    if len(words) < n or total_chars <= 0:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeated = position = 0
    while position <= len(words) - n:
        gram = tuple(words[position : position + n])
        if gram in seen:
            repeated += sum(len(w) for w in gram)
            position += n
        else:
            seen.add(gram)
            position += 1
    return repeated / total_chars


def duplicate_ngram_char_fraction(words: Sequence[str], n: int, total_chars: int) -> float:
    """Characters of words covered by any word n-gram occurring more than once, each counted
    once, over `total_chars`.

    ['a','b','c','a','b'], 2, 9 -> 'a b' repeats: words 0, 1, 3, 4 covered: 4/9.
    """
    if len(words) < n or total_chars <= 0:
        return 0.0
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    counts = Counter(grams)
    covered = bytearray(len(words))
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            covered[i : i + n] = b"\x01" * n
    return sum(len(w) for w, c in zip(words, covered) if c) / total_chars


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
