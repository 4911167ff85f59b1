"""Words to ids the way KenLM does it: `<unk>`=0, `<s>`=1, `</s>`=2, then words in first-seen order.

Tokenisation is KenLM's: a line is one sentence, words are split on ASCII whitespace
(what `kenlm.Model.score` does), so scores agree with KenLM token for token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

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

    def encode_growing(self, lines: Iterable[str], ids: list[int], lengths: list[int]) -> None:
        """Append the ids of every line's words (specials in the text are skipped, like lmplz) to `ids`."""
        index, words = self.index, self.words
        for line in lines:
            n = 0
            for word in split_words(line):
                idx = index.get(word)
                if idx is None:
                    idx = index[word] = len(words)
                    words.append(word)
                elif idx < 3:
                    continue
                ids.append(idx)
                n += 1
            lengths.append(n)

    def encode_fixed(self, lines: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of every line's words (unknown words -> `<unk>`), flat, and each line's length."""
        get = self.index.get
        ids: list[int] = []
        lengths: list[int] = []
        for line in lines:
            words = split_words(line)
            ids.extend([get(w, 0) for w in words])
            lengths.append(len(words))
        return np.asarray(ids, dtype=np.int32), np.asarray(lengths, dtype=np.int64)
