"""Numba scanners for the GPT-2, Whitespace and BERT splits: whole-batch byte-level BPE encoding
and word counting for training.

The Python path (regex `findall`, then a dict of cached words) spends most of its time in the
interpreter. Here one numba call takes the codepoints of many texts and returns all their ids:
it splits with a hand-written scanner equivalent to GPT-2's pattern (tested against `regex` on
arbitrary text), encodes each piece as UTF-8, looks it up in an open-addressing cache (hash of
the bytes, verified byte by byte) and runs the merges only on a miss. The cache has a fixed
capacity (about 28 MB, 262k words); once full, new words are merged but not stored.
`PieceCounter` counts the pieces of the GPT-2, Whitespace or BERT split in an exact hash table
kept across batches (`count_pieces`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.tokenizers import hf_unicode
from corpuskit.tokenizers.bpe_kernels import merge_by_rank

OTHER, LETTER, NUMBER, SPACE = 0, 1, 2, 3
WORD, REGEX_SPACE, WHITE_SPACE, BERT_PUNCT = 1, 2, 4, 8
MODE_GPT2, MODE_WHITESPACE, MODE_BERT, MODE_METASPACE = 0, 1, 2, 3
_CLASSES: np.ndarray | None = None
_FLAGS: np.ndarray | None = None
CACHE_SLOTS = 1 << 19


def char_classes() -> np.ndarray:
    """Class of every code point as the `regex` module sees it: \\p{L}, \\p{N}, \\s or other."""
    global _CLASSES
    if _CLASSES is None:
        import regex

        table = np.zeros(0x110000, np.uint8)
        index = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)])
        text = index.astype(np.uint32).tobytes().decode("utf-32-le")
        for pattern, value in ((r"\p{L}+", LETTER), (r"\p{N}+", NUMBER), (r"\s+", SPACE)):
            for m in regex.finditer(pattern, text):
                table[index[m.start() : m.end()]] = value
        _CLASSES = table
    return _CLASSES


def char_flags() -> np.ndarray:
    """Per code point bit flags: \\w, \\s and White_Space as the `regex` module sees them, and BERT
    punctuation as HF does (`hf_unicode`)."""
    global _FLAGS
    if _FLAGS is None:
        import regex

        table = np.zeros(0x110000, np.uint8)
        index = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)])
        text = index.astype(np.uint32).tobytes().decode("utf-32-le")
        for pattern, bit in ((r"\w+", WORD), (r"\s+", REGEX_SPACE), (r"\p{White_Space}+", WHITE_SPACE)):
            for m in regex.finditer(pattern, text):
                table[index[m.start() : m.end()]] |= bit
        for first, last in hf_unicode.PUNCTUATION:  # HF's punctuation class, as the BERT split uses
            table[first : last + 1] |= BERT_PUNCT
        _FLAGS = table
    return _FLAGS


@njit(cache=True, nogil=True)
def next_piece(cps, i, e, table, mode):
    """(start, end) of the next piece at or after i, or (e, e): GPT-2 pattern, `\\w+|[^\\w\\s]+`
    (HF Whitespace), BERT's whitespace/punctuation split, as `table` (classes or flags) says, or
    Metaspace's split before every character `table` marks (space and the replacement)."""
    if mode == MODE_GPT2:
        return i, gpt2_piece_end(cps, i, e, table)
    if mode == MODE_METASPACE:
        r = i + 1
        while r < e and table[cps[r]] == 0:
            r += 1
        return i, r
    if mode == MODE_WHITESPACE:
        while i < e and (table[cps[i]] & REGEX_SPACE) and not (table[cps[i]] & WORD):
            i += 1
        if i == e:
            return e, e
        word = (table[cps[i]] & WORD) != 0
        r = i + 1
        while r < e:
            f = table[cps[r]]
            if word and not (f & WORD):
                break
            if not word and ((f & WORD) or (f & REGEX_SPACE)):
                break
            r += 1
        return i, r
    while i < e and (table[cps[i]] & WHITE_SPACE):
        i += 1
    if i == e:
        return e, e
    if table[cps[i]] & BERT_PUNCT:
        return i, i + 1
    r = i + 1
    while r < e and not (table[cps[r]] & (WHITE_SPACE | BERT_PUNCT)):
        r += 1
    return i, r


@njit(cache=True, nogil=True)
def gpt2_piece_end(cps, i, e, cls):
    """End (exclusive) of the GPT-2 pattern match starting at i in cps[i:e]."""
    c = cps[i]
    if c == 39 and i + 1 < e:  # contractions: 's 't 're 've 'm 'll 'd
        n1 = cps[i + 1]
        if n1 == 115 or n1 == 116 or n1 == 109 or n1 == 100:
            return i + 2
        if i + 2 < e:
            n2 = cps[i + 2]
            if (n1 == 114 and n2 == 101) or (n1 == 118 and n2 == 101) or (n1 == 108 and n2 == 108):
                return i + 3
    j = i
    if c == 32 and i + 1 < e and cls[cps[i + 1]] != SPACE:
        j = i + 1
    k = cls[cps[j]]
    if k != SPACE:
        r = j + 1
        while r < e and cls[cps[r]] == k:
            r += 1
        return r
    r = i + 1
    while r < e and cls[cps[r]] == SPACE:
        r += 1
    if r == e or r - i == 1:
        return r
    return r - 1


@njit(cache=True, nogil=True)
def encode_texts(cps, starts, cls, byte_sym, tkeys, tvals, state, c_keys, c_meta, c_bytes, c_ids):
    """Ids of every text (flat) and per-text boundaries.

    state: [bytes used, ids used, entries] of the cache; c_keys: hash per slot (-1 empty);
    c_meta: (byte offset, byte length, id offset, id length) per slot.
    """
    n = starts.size - 1
    out = np.empty(max(4 * cps.size, 16), np.int32)
    bounds = np.empty(n + 1, np.int64)
    k = 0
    buf = np.empty(64, np.uint8)
    syms = np.empty(64, np.int32)
    ranks = np.empty(64, np.int64)
    no_lens = np.empty(0, np.int32)  # merge_by_rank need not track lengths here
    mask = c_keys.size - 1
    for t in range(n):
        bounds[t] = k
        i = starts[t]
        e = starts[t + 1]
        while i < e:
            r = gpt2_piece_end(cps, i, e, cls)
            if 4 * (r - i) > buf.size:
                buf = np.empty(8 * (r - i), np.uint8)
                syms = np.empty(8 * (r - i), np.int32)
                ranks = np.empty(8 * (r - i), np.int64)
            nb = 0
            for p in range(i, r):
                c = cps[p]
                if c < 0x80:
                    buf[nb] = c
                    nb += 1
                elif c < 0x800:
                    buf[nb] = 0xC0 | (c >> 6)
                    buf[nb + 1] = 0x80 | (c & 0x3F)
                    nb += 2
                elif c < 0x10000:
                    buf[nb] = 0xE0 | (c >> 12)
                    buf[nb + 1] = 0x80 | ((c >> 6) & 0x3F)
                    buf[nb + 2] = 0x80 | (c & 0x3F)
                    nb += 3
                else:
                    buf[nb] = 0xF0 | (c >> 18)
                    buf[nb + 1] = 0x80 | ((c >> 12) & 0x3F)
                    buf[nb + 2] = 0x80 | ((c >> 6) & 0x3F)
                    buf[nb + 3] = 0x80 | (c & 0x3F)
                    nb += 4
            h = np.uint64(14695981039346656037)
            for p in range(nb):
                h = (h ^ np.uint64(buf[p])) * np.uint64(1099511628211)
            key = np.int64(h >> np.uint64(1))
            slot = key & mask
            found = -1
            while c_keys[slot] != -1:
                if c_keys[slot] == key and c_meta[slot, 1] == nb:
                    off = c_meta[slot, 0]
                    same = True
                    for p in range(nb):
                        if c_bytes[off + p] != buf[p]:
                            same = False
                            break
                    if same:
                        found = slot
                        break
                slot = (slot + 1) & mask
            if found >= 0:
                io = c_meta[found, 2]
                for p in range(c_meta[found, 3]):
                    out[k] = c_ids[io + p]
                    k += 1
            else:
                for p in range(nb):
                    syms[p] = byte_sym[buf[p]]
                m = merge_by_rank(syms, no_lens, ranks, nb, tkeys, tvals)
                for p in range(m):
                    out[k] = syms[p]
                    k += 1
                if state[2] * 2 < c_keys.size and state[0] + nb <= c_bytes.size and state[1] + m <= c_ids.size:
                    c_keys[slot] = key
                    c_meta[slot, 0] = np.int32(state[0])
                    c_meta[slot, 1] = np.int32(nb)
                    c_meta[slot, 2] = np.int32(state[1])
                    c_meta[slot, 3] = np.int32(m)
                    c_bytes[state[0] : state[0] + nb] = buf[:nb]
                    c_ids[state[1] : state[1] + m] = syms[:m]
                    state[0] += nb
                    state[1] += m
                    state[2] += 1
            i = r
    bounds[n] = k
    return out[:k], bounds


@njit(cache=True, nogil=True)
def split_texts(cps, starts, cls):
    """Piece boundaries (codepoint offsets) of each text, for testing the scanner against `regex`."""
    out = np.empty(cps.size + starts.size, np.int64)
    k = 0
    for t in range(starts.size - 1):
        i = starts[t]
        e = starts[t + 1]
        while i < e:
            r = gpt2_piece_end(cps, i, e, cls)
            out[k] = r
            k += 1
            i = r
    return out[:k]


class FastByteLevelEncoder:
    """Batch encoder for a byte-level BPE model with the plain GPT-2 split (no normalizer, no prefix space)."""

    def __init__(self, model: object) -> None:
        from corpuskit.tokenizers.bytelevel import BYTE_TO_CHAR

        vocab = model.vocab  # type: ignore[attr-defined]
        self.byte_sym = np.array([vocab[BYTE_TO_CHAR[b]] for b in range(256)], np.int32)
        self.tkeys, self.tvals = model._tkeys, model._tvals  # type: ignore[attr-defined]
        self.cls = char_classes()
        self.state = np.zeros(3, np.int64)
        self.c_keys = np.full(CACHE_SLOTS, -1, np.int64)
        self.c_meta = np.zeros((CACHE_SLOTS, 4), np.int32)
        self.c_bytes = np.zeros(8 * CACHE_SLOTS, np.uint8)
        self.c_ids = np.zeros(2 * CACHE_SLOTS, np.int32)

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Ids of each text; texts must be free of lone surrogates (checked by the caller)."""
        starts = np.zeros(len(texts) + 1, np.int64)
        np.cumsum([len(t) for t in texts], out=starts[1:])
        cps = np.frombuffer("".join(texts).encode("utf-32-le"), np.uint32)
        ids, bounds = encode_texts(cps, starts, self.cls, self.byte_sym, self.tkeys, self.tvals, self.state, self.c_keys, self.c_meta, self.c_bytes, self.c_ids)
        flat = ids.tolist()
        b = bounds.tolist()
        return [flat[b[i] : b[i + 1]] for i in range(len(texts))]


@njit(cache=True, nogil=True)
def count_pieces(cps, starts, cls, mode, table, arena, state):
    """Add the pieces (see `next_piece`) of a batch of texts to a persistent exact count table.

    `table` rows are slots of an open-addressing table: (hash, arena offset, length, count), 32
    bytes together so that a probe touches one cache line; `arena` holds the code points of
    each distinct piece. Both live across calls, so a corpus is counted block by block without
    merging per-block dicts. state = [distinct pieces, arena code points used]. Pieces are compared
    code point by code point (the hash only picks the slot), so counts are exact. Returns the
    (possibly grown) table and arena. Memory: O(distinct pieces and their characters).
    """
    n_distinct = state[0]
    used = state[1]
    size = table.shape[0]
    mask = size - 1
    for t in range(starts.size - 1):
        i = starts[t]
        e = starts[t + 1]
        while i < e:
            i, r = next_piece(cps, i, e, cls, mode)
            if i == e:
                break
            n = r - i
            h = np.uint64(14695981039346656037)
            for p in range(i, r):
                h = (h ^ np.uint64(cps[p])) * np.uint64(1099511628211)
            key = np.int64(h >> np.uint64(1))
            slot = key & mask
            while True:
                k = table[slot, 0]
                if k == -1:
                    if used + n > arena.size:
                        bigger = np.empty(max(2 * arena.size, used + n), np.uint32)
                        bigger[:used] = arena[:used]
                        arena = bigger
                    arena[used : used + n] = cps[i:r]
                    table[slot, 0] = key
                    table[slot, 1] = used
                    table[slot, 2] = n
                    table[slot, 3] = 1
                    used += n
                    n_distinct += 1
                    break
                if k == key and table[slot, 2] == n:
                    same = True
                    q = table[slot, 1]
                    for p in range(n):
                        if arena[q + p] != cps[i + p]:
                            same = False
                            break
                    if same:
                        table[slot, 3] += 1
                        break
                slot = (slot + 1) & mask
            if 2 * n_distinct > size:
                size *= 2
                mask = size - 1
                bigger_table = np.zeros((size, 4), np.int64)
                bigger_table[:, 0] = -1
                for old in range(table.shape[0]):
                    if table[old, 0] != -1:
                        s2 = table[old, 0] & mask
                        while bigger_table[s2, 0] != -1:
                            s2 = (s2 + 1) & mask
                        bigger_table[s2] = table[old]
                table = bigger_table
            i = r
    state[0] = n_distinct
    state[1] = used
    return table, arena


class PieceCounter:
    """Counts the pieces of the GPT-2, Whitespace or BERT split over many batches of texts.

    Memory: O(distinct pieces and their characters); texts are not kept.
    """

    def __init__(self, mode: int = MODE_GPT2, replacement: str = "\u2581") -> None:
        self.mode = mode
        if mode == MODE_METASPACE:
            self.classes = metaspace_marks(replacement)
        else:
            self.classes = char_classes() if mode == MODE_GPT2 else char_flags()
        self.table = np.zeros((1 << 12, 4), np.int64)
        self.table[:, 0] = -1
        self.arena = np.empty(1 << 16, np.uint32)
        self.state = np.zeros(2, np.int64)

    def add(self, texts: list[str], joined: str | None = None) -> None:
        """Count the pieces of `texts` (which must be free of lone surrogates); `joined`: their concatenation, if made already."""
        if not texts:
            return
        starts = np.zeros(len(texts) + 1, np.int64)
        np.cumsum([len(t) for t in texts], out=starts[1:])
        cps = np.frombuffer((joined if joined is not None else "".join(texts)).encode("utf-32-le"), np.uint32)
        self.table, self.arena = count_pieces(cps, starts, self.classes, self.mode, self.table, self.arena, self.state)

    def counts(self) -> dict[str, int]:
        """Each distinct piece with its count."""
        chars = self.arena[: int(self.state[1])].tobytes().decode("utf-32-le")
        rows = self.table[self.table[:, 0] != -1]
        return {chars[p : p + n]: c for p, n, c in zip(rows[:, 1].tolist(), rows[:, 2].tolist(), rows[:, 3].tolist())}


def metaspace_marks(replacement: str) -> np.ndarray:
    """Table marking the characters a Metaspace piece starts at: the space and the replacement."""
    table = np.zeros(0x110000, np.uint8)
    table[32] = 1
    table[ord(replacement)] = 1
    return table


def count_split_pieces(texts: list[str], mode: int = MODE_GPT2, replacement: str = "\u2581") -> dict[str, int]:
    """Pieces of `texts` with their counts (texts must be free of lone surrogates).

    mode: MODE_GPT2 (raw GPT-2 pieces), MODE_WHITESPACE, MODE_BERT or MODE_METASPACE (raw
    pieces: spaces not yet replaced, nothing prepended; `metaspace_word` finishes them).
    """
    counter = PieceCounter(mode, replacement)
    counter.add(texts)
    return counter.counts()


def metaspace_word(raw: str, replacement: str, prepend: bool) -> str:
    """A raw Metaspace piece as the pre-tokenizer gives it: spaces replaced, the replacement
    prepended (`prepend`) when the piece does not start with one (only a text's first piece can't)."""
    word = raw.replace(" ", replacement)
    return replacement + word if prepend and not word.startswith(replacement) else word
