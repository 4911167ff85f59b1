"""word2vec: skip-gram and CBOW with negative sampling or hierarchical softmax, on numba kernels.

    from corpuskit.embeddings.word2vec import Word2VecTrainer
    kv = Word2VecTrainer(arch="sg", loss="ns", dim=100, epochs=5, workers=2).train(texts)
    kv.most_similar("king")

`train` reads the corpus once (tokenising into a temporary id file), then runs every epoch
over that file. Memory: O(V * dim) weights plus O(V) tables; disk: 4 bytes per token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import ClassVar, Literal

import numpy as np

from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.stream import IdStream, spill_corpus, temporary_directory
from corpuskit.embeddings.training import EpochReport, Tables, run_epochs
from corpuskit.embeddings.vocab import HuffmanTree, Vocabulary, huffman_tree, keep_thresholds, negative_table

log = logging.getLogger(__name__)


@dataclass
class Word2VecConfig:
    """word2vec settings; defaults follow gensim's Word2Vec."""

    dim: int = 100
    window: int = 5  # maximum distance; each position draws a window of 1..window (dynamic window)
    min_count: int = 5
    max_vocab_size: int | None = None  # keep only this many most frequent words
    sample: float = 1e-3  # sub-sampling threshold for frequent words (0 disables)
    arch: Literal["sg", "cbow"] = "sg"
    loss: Literal["ns", "hs"] = "ns"
    negative: int = 5
    ns_exponent: float = 0.75
    alpha: float = 0.025
    min_alpha: float = 0.0001
    epochs: int = 5
    workers: int = 1
    seed: int = 1
    lowercase: bool = True
    chunk_tokens: int = 10_000  # words per job handed to a worker thread

    def validate(self) -> None:
        """Raise ValueError naming the first bad setting."""
        checks = [
            (self.dim > 0, "dim must be positive"),
            (self.window > 0, "window must be positive"),
            (self.min_count >= 1, "min_count must be >= 1"),
            (self.arch in ("sg", "cbow"), "arch must be 'sg' or 'cbow'"),
            (self.loss in ("ns", "hs"), "loss must be 'ns' or 'hs'"),
            (self.loss == "hs" or self.negative > 0, "negative must be > 0 with loss='ns'"),
            (self.epochs > 0, "epochs must be positive"),
            (self.alpha > 0, "alpha must be positive"),
            (self.sample >= 0, "sample must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"{message} (got {asdict(self)})")


class Word2VecTrainer:
    """Trains word2vec vectors from a stream of texts (one text = one sentence for the window)."""

    name: ClassVar[str] = "word2vec"
    config_class: ClassVar[type] = Word2VecConfig
    predict_center: ClassVar[bool] = True  # skip-gram direction: context rows predict the centre (word2vec.c)

    def __init__(self, config: Word2VecConfig | None = None, **options) -> None:
        self.config = config if config is not None else self.config_class(**options)
        self.config.validate()
        self.vocab: Vocabulary | None = None
        self.history: list[EpochReport] = []

    def train(self, corpus: Iterable[str], progress: bool = False) -> KeyedVectors:
        """Read `corpus` once, train for `epochs` passes over its ids, return the word vectors."""
        c = self.config
        with temporary_directory() as scratch:
            self.vocab, stream = spill_corpus(corpus, scratch, c.min_count, c.max_vocab_size, c.lowercase)
            return self._train_stream(self.vocab, stream, progress)

    def _subword_table(self, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray, int]:
        """(offsets, rows, input rows): each word is its own single input row."""
        size = len(vocab)
        return np.arange(size + 1, dtype=np.int64), np.arange(size, dtype=np.int32), size

    def _train_stream(self, vocab: Vocabulary, stream: IdStream, progress: bool) -> KeyedVectors:
        c = self.config
        sub_offsets, sub_ids, input_rows = self._subword_table(vocab)
        hs = c.loss == "hs"
        tree = huffman_tree(vocab.counts) if hs else HuffmanTree(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int8))
        rng = np.random.default_rng(c.seed)
        win = ((rng.random((input_rows, c.dim), dtype=np.float32) * 2 - 1) / c.dim).astype(np.float32)
        wout = np.zeros((max(1, len(vocab) - 1) if hs else len(vocab), c.dim), dtype=np.float32)
        tables = Tables(sub_offsets, sub_ids, keep_thresholds(vocab.counts, c.sample), negative_table(vocab.counts, c.ns_exponent), tree)
        self.history = run_epochs(
            stream, win, wout, tables, sg=c.arch == "sg", predict_center=self.predict_center, hs=hs, negative=c.negative, window=c.window, alpha=c.alpha,
            min_alpha=c.min_alpha, epochs=c.epochs, workers=c.workers, seed=c.seed, chunk_tokens=c.chunk_tokens, progress=progress,
        )
        return self._keyed_vectors(vocab, win, sub_offsets, sub_ids)

    def _keyed_vectors(self, vocab: Vocabulary, win: np.ndarray, sub_offsets: np.ndarray, sub_ids: np.ndarray) -> KeyedVectors:
        return KeyedVectors(vocab.words, win[: len(vocab)], counts=vocab.counts)
