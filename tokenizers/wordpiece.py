"""WordPiece model (greedy longest-match-first with '##' continuations) and its likelihood trainer.

Encoding a word: take the longest vocabulary entry that starts it, then the longest '##' entry
that continues it, and so on; a word that cannot be covered, or longer than
`max_input_chars_per_word` characters, is one unknown token (BERT's rule, also HF's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from corpuskit.tokenizers.bpe import _alphabet, cached_tokenize, string_hash


class WordPieceModel:
    kind = "WordPiece"

    def __init__(self, vocab: Mapping[str, int], unk_token: str = "[UNK]", continuing_subword_prefix: str = "##", max_input_chars_per_word: int = 100) -> None:
        self.vocab = dict(vocab)
        if unk_token not in self.vocab:
            raise ValueError(f"WordPiece unk_token {unk_token!r} is not in the vocabulary")
        self.unk_token = unk_token
        self.unk_id = self.vocab[unk_token]
        self.prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self._max_len = max((len(t) for t in self.vocab), default=1)
        self._caches: dict[bool, dict[str, tuple[list[int], list[int]]]] = {False: {}, True: {}}

    def tokenize_word(self, word: str) -> tuple[list[int], list[int]]:
        """Ids and character lengths of one word (greedy longest match)."""
        n = len(word)
        if n > self.max_input_chars_per_word:
            return [self.unk_id], [n]
        vocab, prefix, max_len = self.vocab, self.prefix, self._max_len
        ids: list[int] = []
        lens: list[int] = []
        start = 0
        while start < n:
            end = min(n, start + max_len)
            found = None
            while end > start:
                sub = word[start:end] if start == 0 else prefix + word[start:end]
                found = vocab.get(sub)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unk_id], [n]
            ids.append(found)
            lens.append(end - start)
            start = end
        return ids, lens

    def tokenize_words(self, words: list[str], map_word: Callable[[str], str] | None = None) -> list[tuple[list[int], list[int]]]:
        return cached_tokenize(self, words, map_word)

    def encode_many(self, words: list[str]) -> list[tuple[list[int], list[int]]]:
        return [self.tokenize_word(w) for w in words]

    def to_hf(self) -> dict[str, Any]:
        return {"type": "WordPiece", "unk_token": self.unk_token, "continuing_subword_prefix": self.prefix, "max_input_chars_per_word": self.max_input_chars_per_word, "vocab": self.vocab}

    @classmethod
    def from_hf(cls, obj: dict[str, Any], where: str = "model") -> "WordPieceModel":
        from corpuskit.tokenizers.vocab_check import check_vocab

        return cls(check_vocab(obj.get("vocab"), where), obj.get("unk_token", "[UNK]"), obj.get("continuing_subword_prefix", "##"), int(obj.get("max_input_chars_per_word", 100)))


def train_wordpiece(
    word_counts: Mapping[str, int],
    vocab_size: int,
    min_frequency: int = 0,
    special_tokens: Iterable[str] = ("[UNK]",),
    limit_alphabet: int | None = None,
    prefix: str = "##",
    max_input_chars_per_word: int = 100,
    criterion: str = "likelihood",
) -> dict[str, int]:
    """Learn a WordPiece vocabulary from word counts.

    criterion "likelihood" ranks merges by count(AB) / (count(A) count(B)) (WordPiece's score);
    "frequency" by count(AB) (what HF's WordPieceTrainer does; better compression).

    Ids: special tokens, then word-initial characters in codepoint order, then their '##' forms,
    then merged pieces in merge order. Words longer than `max_input_chars_per_word` or holding a
    character outside the (limited) alphabet are not trained on (they encode as unknown).
    Memory: O(characters of the distinct words + distinct adjacent pairs).
    """
    from corpuskit.tokenizers.wordpiece_kernels import train_wordpiece_merges

    if criterion not in ("likelihood", "frequency"):
        raise ValueError(f"WordPiece criterion must be 'likelihood' or 'frequency', got {criterion!r}")

    all_words = list(word_counts)
    codepoints = np.frombuffer("".join(all_words).encode("utf-32-le", "surrogatepass"), np.uint32)
    lengths = np.fromiter((len(w) for w in all_words), np.int64, len(all_words))
    all_counts = np.fromiter(word_counts.values(), np.int64, len(all_words))
    alphabet = np.array([ord(ch) for ch in _alphabet(codepoints, lengths, all_counts, (), limit_alphabet)], np.uint32)
    # words longer than the limit or holding a character outside the alphabet are left out
    word_of = np.repeat(np.arange(len(all_words)), lengths)
    outside = ~np.isin(codepoints, alphabet)
    usable = (lengths <= max_input_chars_per_word) & (lengths > 0) & (np.bincount(word_of[outside], minlength=len(all_words)) == 0)
    kept = usable[word_of]
    cps = codepoints[kept]
    kept_lengths = lengths[usable]
    word_start = np.zeros(kept_lengths.size + 1, np.int64)
    np.cumsum(kept_lengths, out=word_start[1:])
    is_first = np.zeros(cps.size, bool)
    is_first[word_start[:-1]] = True
    first_codes = np.unique(cps[is_first])
    rest_codes = np.unique(cps[~is_first])
    tokens: list[str] = []
    index: dict[str, int] = {}

    def add(tok: str) -> None:
        if tok not in index:
            index[tok] = len(tokens)
            tokens.append(tok)

    for tok in special_tokens:
        add(tok)
    for code in first_codes.tolist():
        add(chr(code))
    for code in rest_codes.tolist():
        add(prefix + chr(code))
    if vocab_size < len(tokens):
        raise ValueError(f"vocab_size {vocab_size} is smaller than the special tokens plus alphabet ({len(tokens)}); raise it or lower limit_alphabet")
    first_ids = np.array([index[chr(c)] for c in first_codes.tolist()], np.int32)
    rest_ids = np.array([index[prefix + chr(c)] for c in rest_codes.tolist()], np.int32)
    sym = np.empty(cps.size, np.int32)
    if first_codes.size:
        sym[is_first] = first_ids[np.searchsorted(first_codes, cps[is_first])]
    if rest_codes.size:
        sym[~is_first] = rest_ids[np.searchsorted(rest_codes, cps[~is_first])]
    full = np.array([string_hash(t) for t in tokens], np.int64)
    base = np.array([string_hash(t[len(prefix) :] if t.startswith(prefix) and t not in special_tokens else t) for t in tokens], np.int64)
    full_len = np.array([len(t) for t in tokens], np.int64)
    base_len = np.array([len(t) - len(prefix) if t.startswith(prefix) and t not in special_tokens else len(t) for t in tokens], np.int64)
    merges = train_wordpiece_merges(
        sym,
        word_start,
        all_counts[usable],
        full,
        base,
        full_len,
        base_len,
        len(tokens),
        vocab_size,
        min_frequency,
        criterion == "likelihood",
    )
    for a, b, new in merges.tolist():
        tb = tokens[b]
        merged = tokens[a] + (tb[len(prefix) :] if tb.startswith(prefix) else tb)
        if new == len(tokens):
            tokens.append(merged)
            index[merged] = new
        elif tokens[new] != merged:
            raise RuntimeError(f"hash collision while training: {tokens[new]!r} vs {merged!r}")
    return {t: i for i, t in enumerate(tokens)}
