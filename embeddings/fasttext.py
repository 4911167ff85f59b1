"""fastText: word2vec where a word's input vector is the mean of its own row and its character n-gram rows.

    from corpuskit.embeddings.fasttext import FastTextTrainer
    kv = FastTextTrainer(minn=3, maxn=6, bucket=200_000).train(texts)
    kv["unseenword"]          # built from its n-grams

N-grams ("<wh", "whe", ..., minn..maxn characters of "<word>") are hashed with fastText's FNV-1a
into `bucket` shared rows; the returned KeyedVectors keep those rows for out-of-vocabulary words.
Memory: O((V + bucket) * dim); the subword table O(V * n-grams per word).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.subwords import subword_table
from corpuskit.embeddings.vocab import Vocabulary
from corpuskit.embeddings.word2vec import Word2VecConfig, Word2VecTrainer


@dataclass
class FastTextConfig(Word2VecConfig):
    """word2vec settings plus the n-gram range and hash bucket count (defaults as gensim's FastText)."""

    minn: int = 3
    maxn: int = 6
    bucket: int = 2_000_000

    def validate(self) -> None:
        super().validate()
        if self.bucket < 0 or self.minn < 1 or self.maxn < self.minn:
            raise ValueError(f"need bucket >= 0 and 1 <= minn <= maxn (got minn={self.minn}, maxn={self.maxn}, bucket={self.bucket})")


class FastTextTrainer(Word2VecTrainer):
    """Trains fastText subword vectors (skip-gram or CBOW, negative sampling or hierarchical softmax)."""

    name: ClassVar[str] = "fasttext"
    config_class: ClassVar[type] = FastTextConfig
    predict_center: ClassVar[bool] = False  # skip-gram direction: the centre's n-grams predict each context word

    def _subword_table(self, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray, int]:
        c = self.config
        offsets, rows = subword_table(vocab.words, c.minn, c.maxn, c.bucket)
        return offsets, rows, len(vocab) + c.bucket

    def _keyed_vectors(self, vocab: Vocabulary, win: np.ndarray, sub_offsets: np.ndarray, sub_ids: np.ndarray) -> KeyedVectors:
        """Word vectors are the mean of each word's rows, as used in training."""
        sizes = np.diff(sub_offsets)
        sums = np.add.reduceat(win[sub_ids], sub_offsets[:-1], axis=0)
        vectors = sums / sizes[:, None].astype(np.float32)
        c = self.config
        return KeyedVectors(vocab.words, vectors, counts=vocab.counts, ngram_vectors=win[len(vocab) :].copy(), minn=c.minn, maxn=c.maxn)
