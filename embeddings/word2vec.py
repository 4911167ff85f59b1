"""word2vec: skip-gram and CBOW with negative sampling or hierarchical softmax, on numba kernels.

    from corpuskit.embeddings.word2vec import Word2VecTrainer
    kv = Word2VecTrainer(arch="sg", loss="ns", dim=100, epochs=5, workers=2).train(texts)
    kv.most_similar("king")

`train` reads the corpus once (tokenising into a temporary id file), then runs every epoch
over that file. Counted shards: `count` each, merge the `VocabCounts`, then
`train_from_counts(merged, corpus)` (it reads the corpus once more, for the ids).
Memory: O(V * dim) weights plus O(V) tables; disk: 4 bytes per token.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import ClassVar, Literal

import numpy as np

from corpuskit.embeddings.counts import VocabCounts, require_tokens
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.stream import IdStream, restrict_stream, spill_corpus, temporary_directory, write_stream
from corpuskit.embeddings.tokenize import tokenize
from corpuskit.embeddings.training import EpochReport, Tables, run_epochs
from corpuskit.embeddings.vocab import HuffmanTree, Vocabulary, huffman_tree, keep_thresholds, negative_table
from corpuskit.trainer import ParamError, Trainer

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


class Word2VecTrainer(Trainer):
    """Trains word2vec vectors from a stream of texts (one text = one sentence for the window).

    count -> merge -> train_from_counts: `count(texts)` gives the word counts of a shard
    (`VocabCounts`); `train_from_counts(counts, corpus)` cuts the vocabulary and reads the corpus
    again for the epochs. `train(corpus)` gives the same vectors reading the corpus only once.
    """

    name: ClassVar[str] = "word2vec"
    config_class: ClassVar[type] = Word2VecConfig
    counts_class: ClassVar[type] = VocabCounts
    counting_fields: ClassVar[tuple[str, ...]] = ("lowercase",)
    needs_corpus_after_counting: ClassVar[bool] = True
    predict_center: ClassVar[bool] = True  # skip-gram direction: context rows predict the centre (word2vec.c)

    def __init__(self, config: Word2VecConfig | None = None, **options) -> None:
        super().__init__(config, **options)
        self.vocab: Vocabulary | None = None
        self.history: list[EpochReport] = []

    def validate_config(self) -> None:
        try:
            self.config.validate()
        except ValueError as exc:
            raise ParamError(f"trainer {self.name!r}: {exc}") from None

    def _count(self, texts: Iterable[str], progress: bool) -> VocabCounts:
        """Word counts of `texts` (read once). Memory: O(distinct words)."""
        totals: Counter[str] = Counter()
        lowercase = self.config.lowercase
        for text in texts:
            totals.update(tokenize(text, lowercase))
        counts = VocabCounts(self.counting_config(), list(totals), np.fromiter(totals.values(), dtype=np.int64, count=len(totals)))
        require_tokens(counts)
        return counts

    def _train_from_counts(self, counts, corpus) -> KeyedVectors:  # type: ignore[no-untyped-def]
        """Cut the vocabulary from `counts`, read `corpus` into its ids, train for `epochs` passes."""
        c = self.config
        require_tokens(counts)
        self.vocab = counts.vocabulary(c.min_count, c.max_vocab_size)
        with temporary_directory() as scratch:
            stream = write_stream(corpus, self.vocab, scratch, c.lowercase)
            return self._train_stream(self.vocab, stream, False)

    def train(self, corpus: Iterable[str], progress: bool = False) -> KeyedVectors:
        """Read `corpus` once (into an id file), train for `epochs` passes over its ids, return the word vectors.

        The same vectors as `train_from_counts(count(corpus), corpus)`, without the second read.
        """
        c = self.config
        with temporary_directory() as scratch:
            all_words, stream = spill_corpus(corpus, scratch, 1, None, c.lowercase)
            self.vocab = VocabCounts(self.counting_config(), all_words.words, all_words.counts).vocabulary(c.min_count, c.max_vocab_size)
            stream = restrict_stream(stream, len(self.vocab), scratch)
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
