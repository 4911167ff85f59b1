"""WordPiece model (greedy longest-match-first with '##' continuations) and its likelihood trainer.

Encoding a word: take the longest vocabulary entry that starts it, then the longest '##' entry
that continues it, and so on; a word that cannot be covered, or longer than
`max_input_chars_per_word` characters, is one unknown token (BERT's rule, also HF's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from corpuskit.tokenizers.bpe import cached_tokenize, compute_alphabet, string_hash


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
        if not isinstance(obj.get("vocab"), dict):
            raise ValueError(f"{where}: WordPiece needs a 'vocab' object")
        return cls(obj["vocab"], obj.get("unk_token", "[UNK]"), obj.get("continuing_subword_prefix", "##"), int(obj.get("max_input_chars_per_word", 100)))


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

    alphabet = set(compute_alphabet(word_counts, (), limit_alphabet))
    words = [w for w in word_counts if len(w) <= max_input_chars_per_word and all(ch in alphabet for ch in w)]
    tokens: list[str] = []
    index: dict[str, int] = {}

    def add(tok: str) -> None:
        if tok not in index:
            index[tok] = len(tokens)
            tokens.append(tok)

    for tok in special_tokens:
        add(tok)
    firsts = sorted({w[0] for w in words}, key=ord)
    rests = sorted({ch for w in words for ch in w[1:]}, key=ord)
    for ch in firsts:
        add(ch)
    for ch in rests:
        add(prefix + ch)
    if vocab_size < len(tokens):
        raise ValueError(f"vocab_size {vocab_size} is smaller than the special tokens plus alphabet ({len(tokens)}); raise it or lower limit_alphabet")
    sym: list[int] = []
    starts = [0]
    for w in words:
        sym.append(index[w[0]])
        sym.extend(index[prefix + ch] for ch in w[1:])
        starts.append(len(sym))
    full = np.array([string_hash(t) for t in tokens], np.int64)
    base = np.array([string_hash(t[len(prefix) :] if t.startswith(prefix) and t not in special_tokens else t) for t in tokens], np.int64)
    full_len = np.array([len(t) for t in tokens], np.int64)
    base_len = np.array([len(t) - len(prefix) if t.startswith(prefix) and t not in special_tokens else len(t) for t in tokens], np.int64)
    merges = train_wordpiece_merges(
        np.array(sym, np.int32),
        np.array(starts, np.int64),
        np.fromiter((word_counts[w] for w in words), np.int64, len(words)),
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
