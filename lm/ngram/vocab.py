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
_OTHER_SURROGATE = re.compile("([\ud800-\udc7f\udd00-\udfff])")  # not a surrogate escape of a byte


def to_bytes(text: str) -> bytes:
    """UTF-8 bytes of `text`; undecodable input bytes (surrogate escapes) come back as themselves
    and any other lone surrogate (e.g. from a JSON escape) is kept as its 3-byte form."""
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        parts = _OTHER_SURROGATE.split(text)  # odd positions are the lone surrogates
        return b"".join(p.encode("utf-8", errors="surrogatepass" if i % 2 else "surrogateescape") for i, p in enumerate(parts))


def split_words(line: str) -> list[str]:
    """Split a line on ASCII whitespace only (a no-break space stays inside a word, as in KenLM)."""
    return [w for w in _ASCII_SPACE.split(line) if w]


def pack_words(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Words as (UTF-8 bytes, offsets) arrays for an npz file; any string, lone surrogates included."""
    encoded = [w.encode("utf-8", errors="surrogatepass") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def unpack_words(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    """The inverse of `pack_words`."""
    raw = np.asarray(data, dtype=np.uint8).tobytes()
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    if not bounds or bounds[0] != 0 or bounds[-1] != len(raw) or any(a > b for a, b in zip(bounds, bounds[1:])):
        raise ValueError("word offsets do not match the word bytes")
    return [raw[a:b].decode("utf-8", errors="surrogatepass") for a, b in zip(bounds, bounds[1:])]


class Vocabulary:
    """A growing word -> id map with the three specials first. Memory: O(distinct words).

    `words`/`index` are the Python view; the numba view (word bytes, offsets, hash table)
    is built on first use and encodes whole chunks of lines without a Python call per token.
    """

    def __init__(self, words: Sequence[str] = ()) -> None:
        self.words: list[str] = list(SPECIALS)
        self.index: dict[str, int] = {w: i for i, w in enumerate(SPECIALS)}
        for word in words:
            if word not in self.index:
                self.add(word)
        self._hash: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # table, bytes, offsets

    @classmethod
    def from_words(cls, words: Sequence[str]) -> "Vocabulary":
        """A vocabulary whose ids are the positions in `words` (which must start with the specials)."""
        vocab = cls()
        vocab.words = list(words)
        vocab.index = {w: i for i, w in enumerate(vocab.words)}
        return vocab

    def __len__(self) -> int:
        return len(self.words)

    def add(self, word: str) -> int:
        idx = self.index.get(word)
        if idx is None:
            idx = self.index[word] = len(self.words)
            self.words.append(word)
            self._hash = None
        return idx

    def _hash_state(self, extra_words: int, extra_bytes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The numba view, with room for `extra_words` more words of `extra_bytes` more bytes."""
        from corpuskit.lm.ngram import wordhash

        if self._hash is None:
            encoded = [to_bytes(w) for w in self.words]
            starts = np.zeros(len(encoded) + 1, dtype=np.int64)
            np.cumsum([len(b) for b in encoded], out=starts[1:])
            self._hash = (np.zeros((0, 2), dtype=np.uint64), np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), starts)
        table, word_bytes, starts = self._hash
        n = len(self.words)
        used = int(starts[n])
        if word_bytes.shape[0] < used + extra_bytes:
            grown = np.empty(max(2 * word_bytes.shape[0], used + extra_bytes), dtype=np.uint8)
            grown[:used] = word_bytes[:used]
            word_bytes = grown
        if starts.shape[0] < n + extra_words + 1:
            grown_starts = np.empty(max(2 * starts.shape[0], n + extra_words + 1), dtype=np.int64)
            grown_starts[: n + 1] = starts[: n + 1]
            starts = grown_starts
        compact = 1 << max(4, (2 * (n + extra_words)).bit_length())
        if table.shape[0] < 2 * (n + extra_words) or (extra_words == 0 and table.shape[0] > 4 * compact):
            # grown for counting (room for a whole chunk of new words); lookups want it small
            table = wordhash.rebuild_table(word_bytes, starts, n, compact)
        self._hash = (table, word_bytes, starts)
        return self._hash

    def encode(self, lines: Sequence[str], grow: bool) -> tuple[np.ndarray, np.ndarray]:
        """Ids of every line's words, flat, and each line's length (one line = one sentence).

        grow=True adds new words and drops `<s>`, `</s>`, `<unk>` found in the text (lmplz);
        grow=False maps unknown words to `<unk>` (0). A newline inside a text is a word break.
        """
        from corpuskit.lm.ngram import wordhash

        if not lines:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
        joined = "\n".join([t.replace("\n", " ") if "\n" in t else t for t in lines])
        buf = np.frombuffer(to_bytes(joined), dtype=np.uint8)
        max_tokens = (buf.shape[0] + 2) // 2
        table, word_bytes, starts = self._hash_state(max_tokens if grow else 0, buf.shape[0] if grow else 0)
        ids = np.empty(max_tokens, dtype=np.int32)
        lengths = np.empty(len(lines), dtype=np.int64)
        n_old = len(self.words)
        n_tok, n_lines, n_words = wordhash.encode_lines(buf, table, word_bytes, starts, n_old, grow, grow, ids, lengths)
        assert n_lines == len(lines)
        if n_words > n_old:
            raw = word_bytes.tobytes() if n_words - n_old > 1000 else None
            for w in range(n_old, n_words):
                a, b = int(starts[w]), int(starts[w + 1])
                word = (raw[a:b] if raw is not None else word_bytes[a:b].tobytes()).decode("utf-8", errors="surrogateescape")
                self.index[word] = w
                self.words.append(word)
        return ids[:n_tok], lengths

    def encode_python(self, lines: Iterable[str], grow: bool) -> tuple[np.ndarray, np.ndarray]:
        """Plain-Python reference of `encode` (same ids, same lengths)."""
        ids: list[int] = []
        lengths: list[int] = []
        for line in lines:
            n = 0
            for word in split_words(line):
                idx = self.index.get(word)
                if idx is None:
                    idx = self.add(word) if grow else UNK_ID
                elif grow and idx < len(SPECIALS):
                    continue
                ids.append(idx)
                n += 1
            lengths.append(n)
        return np.asarray(ids, dtype=np.int32), np.asarray(lengths, dtype=np.int64)

    def encode_growing(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """`encode(lines, grow=True)`: counting's view."""
        return self.encode(lines, grow=True)

    def encode_fixed(self, lines: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """`encode(lines, grow=False)`: scoring's view (unknown words -> `<unk>`)."""
        return self.encode(lines if isinstance(lines, list) else list(lines), grow=False)
