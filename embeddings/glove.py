"""GloVe: weighted least squares on log co-occurrence counts, trained with AdaGrad.

    from corpuskit.embeddings.glove import GloVeTrainer
    kv = GloVeTrainer(dim=100, window=10, epochs=15, workers=2).train(texts)

`train` reads the corpus once into an id file of every word, counts (word, context, distance)
exactly in bounded memory (`memory_mb`, spilling sorted runs to disk), then cuts the vocabulary
(`min_count`, `max_vocab_size`), weighs each pair by 1/distance and makes `epochs` AdaGrad
passes over the non-zero entries, freshly shuffled each epoch and split across worker threads
without locks. Output vectors are W + W~ (Stanford GloVe's -model 2). Unlike Stanford's cooccur,
a word below `min_count` still takes its place in the window (counting happens before the cut,
so that counts of shards merge). Memory: O(memory_mb) while counting, then 20 bytes per distinct
(pair, distance) and 16 per matrix entry (twice during an epoch, for the shuffled copy)
plus O(V * dim) weights.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from corpuskit.embeddings.cooccurrence import Cooccurrences, count_window_rows, weigh
from corpuskit.embeddings.counts import CooccurrenceCounts, require_tokens
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.stream import spill_corpus, temporary_directory
from corpuskit.embeddings.training import EpochReport
from corpuskit.embeddings.vocab import Vocabulary
from corpuskit.trainer import ParamError, Trainer

log = logging.getLogger(__name__)


@dataclass
class GloVeConfig:
    """GloVe settings; x_max, alpha and eta as in the paper and Stanford's glove.c."""

    dim: int = 100
    window: int = 10  # symmetric; a pair at distance d adds 1/d
    min_count: int = 5
    max_vocab_size: int | None = None
    x_max: float = 100.0
    alpha: float = 0.75  # weighting exponent: f(x) = (x / x_max)^alpha below x_max
    eta: float = 0.05  # AdaGrad initial learning rate (`embed train --eta`)
    epochs: int = 15
    workers: int = 1
    seed: int = 1
    lowercase: bool = True
    memory_mb: int = 512  # co-occurrence counting budget before spilling to disk

    def validate(self) -> None:
        if self.dim <= 0 or self.window <= 0 or self.epochs <= 0 or self.min_count < 1 or self.x_max <= 0 or self.eta <= 0:
            raise ValueError(f"dim, window, epochs, x_max, eta must be positive and min_count >= 1 (got {asdict(self)})")


class GloVeTrainer(Trainer):
    """Trains GloVe vectors from a stream of texts (one text = one window context).

    `count(texts)` gives `CooccurrenceCounts` (every word, exact per-distance counts), which
    merge across shards; `train_from_counts(counts)` cuts the vocabulary and trains.
    """

    name: ClassVar[str] = "glove"
    config_class: ClassVar[type] = GloVeConfig
    counts_class: ClassVar[type] = CooccurrenceCounts
    counting_fields: ClassVar[tuple[str, ...]] = ("lowercase", "window")

    def __init__(self, config: GloVeConfig | None = None, **options) -> None:
        super().__init__(config, **options)
        self.vocab: Vocabulary | None = None
        self.history: list[EpochReport] = []
        self.pairs = 0

    def validate_config(self) -> None:
        try:
            self.config.validate()
        except ValueError as exc:
            raise ParamError(f"trainer {self.name!r}: {exc}") from None

    def _count(self, texts: Iterable[str], progress: bool) -> CooccurrenceCounts:
        """Read `texts` once into ids of every word, count (word, context, distance) within `memory_mb`."""
        c = self.config
        with temporary_directory() as scratch:
            words, stream = spill_corpus(texts, scratch, 1, None, c.lowercase)
            rows, pair_counts = count_window_rows(stream, len(words), c.window, c.memory_mb << 20, scratch)
        return CooccurrenceCounts(self.counting_config(), words.words, words.counts, rows, pair_counts)

    def _train_from_counts(self, counts, corpus) -> KeyedVectors:  # type: ignore[no-untyped-def]
        return self._fit_counts(counts, False)

    def train(self, corpus: Iterable[str], progress: bool = False) -> KeyedVectors:
        """Count co-occurrences (one read of `corpus`), run the AdaGrad epochs, return W + W~."""
        return self._fit_counts(self.count(corpus), progress)

    def _fit_counts(self, counts: CooccurrenceCounts, progress: bool) -> KeyedVectors:
        c = self.config
        require_tokens(counts)
        self.vocab = counts.vocabulary(c.min_count, c.max_vocab_size)
        matrix = weigh(counts.rows, counts.pair_counts, len(self.vocab))
        self.pairs = len(matrix)
        log.info("co-occurrence matrix: %d words, %d non-zero entries", len(self.vocab), self.pairs)
        vectors = self.fit(matrix, len(self.vocab), progress)
        return KeyedVectors(self.vocab.words, vectors, counts=self.vocab.counts)

    def fit(self, matrix: Cooccurrences, vocab_size: int, progress: bool = False) -> np.ndarray:
        """Train on precomputed co-occurrences; return W + W~ (vocab_size x dim, float32)."""
        from corpuskit.embeddings.glove_kernels import glove_epoch

        c = self.config
        rng = np.random.default_rng(c.seed)
        w = ((rng.random((vocab_size, c.dim), dtype=np.float32) - 0.5) / c.dim).astype(np.float32)
        wt = ((rng.random((vocab_size, c.dim), dtype=np.float32) - 0.5) / c.dim).astype(np.float32)
        b = ((rng.random(vocab_size) - 0.5) / c.dim).astype(np.float64)
        bt = ((rng.random(vocab_size) - 0.5) / c.dim).astype(np.float64)
        gw, gwt = np.ones_like(w), np.ones_like(wt)
        gb, gbt = np.ones_like(b), np.ones_like(bt)
        entries = len(matrix)
        if entries == 0:
            raise ValueError("no co-occurrences: every sentence has a single vocabulary word")
        index_type = np.int32 if entries < 2**31 else np.int64
        workers = max(1, c.workers)
        self.history = []
        epochs = range(c.epochs)
        if progress:
            from tqdm import tqdm

            epochs = tqdm(epochs, desc="glove", unit="epoch")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for epoch in epochs:
                began = time.perf_counter()
                shuffle = rng.permutation(entries).astype(index_type)
                # physically shuffled copies: the kernel then reads entries in order, not at random
                rows, cols, counts = matrix.rows[shuffle], matrix.cols[shuffle], matrix.counts[shuffle]
                del shuffle
                slices = np.array_split(np.arange(entries, dtype=index_type), workers)
                costs = list(
                    pool.map(
                        lambda part: glove_epoch(w, wt, b, bt, gw, gwt, gb, gbt, rows, cols, counts, part, c.x_max, c.alpha, c.eta),
                        slices,
                    )
                )
                del rows, cols, counts
                report = EpochReport(epoch + 1, sum(costs) / entries, entries, time.perf_counter() - began)
                self.history.append(report)
                log.info("glove epoch %d: cost %.4f", report.epoch, report.loss)
                if progress:
                    epochs.set_postfix(cost=f"{report.loss:.4f}")
        return (w + wt).astype(np.float32)
