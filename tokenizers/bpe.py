"""BPE model (character- or byte-level): merges applied by rank, and its trainer.

The model owns `vocab` (token -> id) and `merges` (pairs of token strings, in rank order); the
merged id of a pair is the id of the concatenated string. Encoding runs in numba over every new
word at once and is remembered in a word cache (memory: O(distinct words seen), capped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CACHE_LIMIT = 1_000_000
_MASK64 = (1 << 64) - 1
_HASH_MUL = 0x100000001B3


def string_hash(text: str) -> int:
    """64-bit polynomial hash of a string, signed; h(xy) = h(x) * M**len(y) + h(y) (wrapping)."""
    h = 0
    for ch in text:
        h = (h * _HASH_MUL + (ord(ch) * 0x9E3779B97F4A7C15 + 1)) & _MASK64
    return h - (1 << 64) if h >= 1 << 63 else h


class BPEModel:
    """Byte-pair encoding: split a word into symbols, then apply merges lowest rank first."""

    kind = "BPE"

    def __init__(
        self,
        vocab: Mapping[str, int],
        merges: list[tuple[str, str]],
        unk_token: str | None = None,
        continuing_subword_prefix: str | None = None,
        end_of_word_suffix: str | None = None,
        fuse_unk: bool = False,
        byte_fallback: bool = False,
        ignore_merges: bool = False,
    ) -> None:
        self.vocab = dict(vocab)
        self.merges = [tuple(m) for m in merges]
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.fuse_unk = fuse_unk
        self.byte_fallback = byte_fallback
        self.ignore_merges = ignore_merges
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        prefix_len = len(continuing_subword_prefix or "")
        keys, values = [], []
        for rank, (a, b) in enumerate(self.merges):
            ia, ib = self.vocab.get(a), self.vocab.get(b)
            merged = self.vocab.get(a + b[prefix_len:] if prefix_len and b.startswith(continuing_subword_prefix) else a + b)
            if ia is None or ib is None or merged is None:
                raise ValueError(f"merge {rank} ({a!r}, {b!r}) uses a token missing from the vocabulary")
            keys.append((ia << 32) | ib)
            values.append((rank << 32) | merged)
        from corpuskit.tokenizers.table_kernels import build_table

        # first occurrence of a duplicated pair keeps its (lowest) rank
        order = {}
        for k, v in zip(keys, values):
            order.setdefault(k, v)
        self._tkeys, self._tvals = build_table(np.fromiter(order.keys(), np.int64, len(order)), np.fromiter(order.values(), np.int64, len(order)))
        self._caches: dict[bool, dict[str, tuple[list[int], list[int]]]] = {False: {}, True: {}}

    # -- encoding --------------------------------------------------------------------------

    def _initial(self, word: str) -> tuple[list[int], list[int]]:
        """Symbol ids of a word's characters and how many characters each covers (unknowns fused or replaced)."""
        ids: list[int] = []
        spans: list[int] = []
        vocab = self.vocab
        prefix, suffix = self.continuing_subword_prefix, self.end_of_word_suffix
        unk_id = vocab.get(self.unk_token) if self.unk_token is not None else None
        pending_unk = 0
        last = len(word) - 1
        for i, ch in enumerate(word):
            s = ch
            if i and prefix:
                s = prefix + s
            if i == last and suffix:
                s = s + suffix
            tid = vocab.get(s)
            if tid is None and self.byte_fallback:
                byte_ids = [vocab.get(f"<0x{b:02X}>") for b in s.encode("utf-8")]
                if all(b is not None for b in byte_ids):
                    if pending_unk:
                        ids.append(unk_id)  # type: ignore[arg-type]
                        spans.append(pending_unk)
                        pending_unk = 0
                    ids.extend(byte_ids)  # type: ignore[arg-type]
                    spans.extend([1] + [0] * (len(byte_ids) - 1))
                    continue
            if tid is None:
                if unk_id is None:
                    continue
                if pending_unk and not self.fuse_unk:
                    ids.append(unk_id)
                    spans.append(pending_unk)
                    pending_unk = 0
                pending_unk += 1
                continue
            if pending_unk:
                ids.append(unk_id)  # type: ignore[arg-type]
                spans.append(pending_unk)
                pending_unk = 0
            ids.append(tid)
            spans.append(1)
        if pending_unk:
            ids.append(unk_id)  # type: ignore[arg-type]
            spans.append(pending_unk)
        return ids, spans

    def tokenize_words(self, words: list[str], map_word: Callable[[str], str] | None = None) -> list[tuple[list[int], list[int]]]:
        """Ids of each word, with each token's length in characters of the (mapped) word.

        With `map_word`, words are raw pre-tokenizer pieces, mapped only on a cache miss.
        """
        return cached_tokenize(self, words, map_word)

    def encode_many(self, words: list[str]) -> list[tuple[list[int], list[int]]]:
        """Tokenize distinct words in one numba call (no cache)."""
        from corpuskit.tokenizers.bpe_kernels import encode_words

        results: list[tuple[list[int], list[int]] | None] = [None] * len(words)
        todo = []
        for k, w in enumerate(words):
            if self.ignore_merges and w in self.vocab:
                results[k] = ([self.vocab[w]], [len(w)])
            else:
                todo.append(k)
        if todo:
            initial = [self._initial(words[k]) for k in todo]
            starts = np.zeros(len(todo) + 1, np.int64)
            np.cumsum([len(ids) for ids, _ in initial], out=starts[1:])
            flat = np.fromiter((i for ids, _ in initial for i in ids), np.int32, int(starts[-1]))
            out, out_starts, out_len = encode_words(flat, starts, self._tkeys, self._tvals)
            out_l, starts_l, len_l = out.tolist(), out_starts.tolist(), out_len.tolist()
            for k, (ids, spans), a, b in zip(todo, initial, starts_l[:-1], starts_l[1:]):
                if all(s == 1 for s in spans):
                    char_lens = len_l[a:b]
                else:
                    char_lens, pos = [], 0
                    for n in len_l[a:b]:
                        char_lens.append(sum(spans[pos : pos + n]))
                        pos += n
                results[k] = (out_l[a:b], char_lens)
        return results  # type: ignore[return-value]

    # -- files -----------------------------------------------------------------------------

    def to_hf(self) -> dict[str, Any]:
        return {
            "type": "BPE",
            "dropout": None,
            "unk_token": self.unk_token,
            "continuing_subword_prefix": self.continuing_subword_prefix,
            "end_of_word_suffix": self.end_of_word_suffix,
            "fuse_unk": self.fuse_unk,
            "byte_fallback": self.byte_fallback,
            "ignore_merges": self.ignore_merges,
            "vocab": self.vocab,
            "merges": [list(m) for m in self.merges],
        }

    @classmethod
    def from_hf(cls, obj: dict[str, Any], where: str = "model") -> "BPEModel":
        if obj.get("dropout"):
            log.warning("%s: BPE dropout is ignored (encoding is deterministic)", where)
        merges = []
        for i, m in enumerate(obj.get("merges", [])):
            if isinstance(m, str):
                parts = m.split(" ")
                if len(parts) != 2:
                    raise ValueError(f"{where}: merge {i} {m!r} is not two space-separated tokens")
                m = parts
            if len(m) != 2:
                raise ValueError(f"{where}: merge {i} {m!r} is not a pair")
            merges.append((m[0], m[1]))
        return cls(
            obj["vocab"],
            merges,
            unk_token=obj.get("unk_token"),
            continuing_subword_prefix=obj.get("continuing_subword_prefix"),
            end_of_word_suffix=obj.get("end_of_word_suffix"),
            fuse_unk=bool(obj.get("fuse_unk", False)),
            byte_fallback=bool(obj.get("byte_fallback", False)),
            ignore_merges=bool(obj.get("ignore_merges", False)),
        )


def cached_tokenize(model: Any, words: list[str], map_word: Callable[[str], str] | None) -> list[tuple[list[int], list[int]]]:
    """Shared word cache of the three models: raw-piece keys (with map_word) and mapped keys kept apart.

    Memory: O(distinct words seen), cleared when it passes CACHE_LIMIT entries.
    """
    cache = model._caches[map_word is not None]
    missing = [w for w in dict.fromkeys(words) if w not in cache]
    if missing:
        results = model.encode_many([map_word(w) for w in missing] if map_word is not None else missing)
        if len(cache) + len(missing) > CACHE_LIMIT:
            cache.clear()
        cache.update(zip(missing, results))
    return [cache[w] for w in words]


def compute_alphabet(word_counts: Mapping[str, int], initial: Iterable[str], limit: int | None) -> list[str]:
    """Characters to start from, in codepoint order; with `limit`, the rarest are dropped first
    (ties: the larger codepoint goes first). `initial` characters are always kept."""
    words = list(word_counts)
    codepoints = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), np.uint32)
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    wcount = np.fromiter(word_counts.values(), np.int64, len(words))
    return _alphabet(codepoints, lengths, wcount, initial, limit)


def _alphabet(codepoints: np.ndarray, lengths: np.ndarray, wcount: np.ndarray, initial: Iterable[str], limit: int | None) -> list[str]:
    """compute_alphabet on the concatenated code points of the words, their lengths and counts."""
    chars = np.flatnonzero(np.bincount(codepoints))
    # float weights are exact below 2**53 occurrences of one character
    freq = np.bincount(codepoints, weights=np.repeat(wcount, lengths).astype(np.float64))[chars].astype(np.int64)
    forced = {ord(ch) for ch in initial}
    counts = dict(zip(chars.tolist(), freq.tolist()))
    for code in forced:
        counts[code] = 1 << 62
    codes = list(counts)
    if limit is not None and len(codes) > limit:
        codes.sort(key=lambda c: (-counts[c], c))
        codes = codes[:limit]
    return [chr(c) for c in sorted(codes)]


def train_bpe(
    word_counts: Mapping[str, int],
    vocab_size: int,
    min_frequency: int = 0,
    special_tokens: Iterable[str] = (),
    limit_alphabet: int | None = None,
    initial_alphabet: Iterable[str] = (),
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Learn a BPE vocabulary and merges from word counts.

    Ids: special tokens first, then the alphabet in codepoint order, then merged tokens in merge
    order. Characters outside the (limited) alphabet are left out of the words they occur in.
    Memory: O(characters of the distinct words + distinct adjacent pairs).
    """
    from corpuskit.tokenizers.bpe_kernels import train_merges

    words = list(word_counts)
    codepoints = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), np.uint32)
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    wcount = np.fromiter(word_counts.values(), np.int64, len(words))
    tokens: list[str] = []
    index: dict[str, int] = {}
    for tok in list(special_tokens) + _alphabet(codepoints, lengths, wcount, initial_alphabet, limit_alphabet):
        if tok not in index:
            index[tok] = len(tokens)
            tokens.append(tok)
    if vocab_size < len(tokens):
        raise ValueError(f"vocab_size {vocab_size} is smaller than the special tokens plus alphabet ({len(tokens)}); raise it or set limit_alphabet")
    single = {t: i for t, i in index.items() if len(t) == 1}
    table = np.full(0x110000, -1, np.int32)
    for ch, i in single.items():
        table[ord(ch)] = i
    sym_all = table[codepoints]
    keep = sym_all >= 0
    word_id = np.repeat(np.arange(len(words)), lengths)
    sym = np.ascontiguousarray(sym_all[keep])
    kept_per_word = np.bincount(word_id[keep], minlength=len(words))
    word_start = np.zeros(len(words) + 1, np.int64)
    np.cumsum(kept_per_word, out=word_start[1:])
    tok_hash = np.array([string_hash(t) for t in tokens], np.int64)
    tok_len = np.array([len(t) for t in tokens], np.int64)
    merges_arr = train_merges(sym, word_start, wcount, tok_hash, tok_len, len(tokens), vocab_size, min_frequency)
    merges: list[tuple[str, str]] = []
    for a, b, new in merges_arr.tolist():
        merged = tokens[a] + tokens[b]
        if new == len(tokens):
            tokens.append(merged)
            index[merged] = new
        elif tokens[new] != merged:
            raise RuntimeError(f"hash collision while training: {tokens[new]!r} vs {merged!r}")
        merges.append((tokens[a], tokens[b]))
    return {t: i for i, t in enumerate(tokens)}, merges
