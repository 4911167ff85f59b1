"""Words to ids the way KenLM does it: `<unk>`=0, `<s>`=1, `</s>`=2, then words in first-seen order.

Tokenisation is KenLM's: a line is one sentence, words are split on ASCII whitespace
(what `kenlm.Model.score` does), so scores agree with KenLM token for token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SPECIALS = (UNK, BOS, EOS)

_ASCII_SPACE = re.compile(r"[ \t\n\r\x0b\x0c]+")


def split_words(line: str) -> list[str]:
    """Split a line on ASCII whitespace only (a no-break space stays inside a word, as in KenLM)."""
    if line.isascii():
        return line.split()
    return [w for w in _ASCII_SPACE.split(line) if w]


class Vocabulary:
    """A growing word -> id map with the three specials first. Memory: O(distinct words)."""

    def __init__(self, words: Sequence[str] = ()) -> None:
        self.words: list[str] = list(SPECIALS)
        self.index: dict[str, int] = {w: i for i, w in enumerate(SPECIALS)}
        for word in words:
            if word not in self.index:
                self.add(word)

    def __len__(self) -> int:
        return len(self.words)

    def add(self, word: str) -> int:
        idx = self.index.get(word)
        if idx is None:
            idx = self.index[word] = len(self.words)
            self.words.append(word)
        return idx

    def encode_growing(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of every line's words (new words added), flat, and each line's length.

        `<s>`, `</s>` and `<unk>` inside the text are dropped, as lmplz treats them as whitespace.
        """
        split = [split_words(line) for line in lines]
        lengths = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        flat = list(chain.from_iterable(split))
        index = self.index
        ids = np.array([index.get(w, -1) for w in flat], dtype=np.int64)
        for i in np.flatnonzero(ids < 0).tolist():
            ids[i] = self.add(flat[i])
        special = ids < len(SPECIALS)
        if special.any():
            line_of = np.repeat(np.arange(len(lengths)), lengths)
            lengths = lengths - np.bincount(line_of[special], minlength=len(lengths))
            ids = ids[~special]
        return ids.astype(np.int32), lengths

    def encode_fixed(self, lines: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of every line's words (unknown words -> `<unk>`), flat, and each line's length."""
        split = [split_words(line) for line in lines]
        lengths = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        get = self.index.get
        ids = np.fromiter([get(w, 0) for w in chain.from_iterable(split)], dtype=np.int32, count=int(lengths.sum()))
        return ids, lengths
