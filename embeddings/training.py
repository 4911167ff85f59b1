"""The epoch loop shared by word2vec and fastText: chunks of the id stream fed to worker threads.

Workers call the nogil numba kernel on shared weight matrices without locks (Hogwild, as
word2vec.c and gensim do). The learning rate falls linearly from `alpha` to `min_alpha` over all
epochs, set per chunk from its position in the run. With workers=1 chunks run in order and a
seed reproduces the weights exactly.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from corpuskit.embeddings.stream import IdStream
from corpuskit.embeddings.vocab import HuffmanTree

log = logging.getLogger(__name__)


@dataclass
class EpochReport:
    """What one epoch did: mean loss per output prediction, words read, wall seconds."""

    epoch: int
    loss: float
    words: int
    seconds: float

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Tables:
    """Everything the kernel reads besides weights and ids."""

    sub_offsets: np.ndarray
    sub_ids: np.ndarray
    keep: np.ndarray
    cum_table: np.ndarray
    tree: HuffmanTree


def run_epochs(
    stream: IdStream,
    win: np.ndarray,
    wout: np.ndarray,
    tables: Tables,
    *,
    sg: bool,
    predict_center: bool,
    hs: bool,
    negative: int,
    window: int,
    alpha: float,
    min_alpha: float,
    epochs: int,
    workers: int,
    seed: int,
    chunk_tokens: int = 10_000,
    progress: bool = False,
) -> list[EpochReport]:
    """Train `win`/`wout` in place for `epochs` passes over `stream`; return one report per epoch."""
    from corpuskit.embeddings.kernels import train_chunk

    ids = stream.ids()
    chunks = stream.chunks(chunk_tokens)
    total = max(1, ids.size * epochs)
    tree = tables.tree
    reports: list[EpochReport] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=stream.tokens * epochs, unit="word", unit_scale=True, desc="training")

    def work(task: tuple[int, int, float, int]) -> tuple[float, int, int]:
        start, end, rate, chunk_seed = task
        result = train_chunk(
            np.ascontiguousarray(ids[start:end]), win, wout, tables.sub_offsets, tables.sub_ids, tables.keep,
            tables.cum_table, tree.offsets, tree.points, tree.codes, sg, predict_center, hs, negative, window, rate, chunk_seed,
        )
        if bar is not None:
            bar.update(result[2])
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for epoch in range(epochs):
            seeds = np.random.default_rng([seed, epoch]).integers(1, 2**62, size=len(chunks))
            tasks = [
                (start, end, alpha - (alpha - min_alpha) * (epoch * ids.size + start) / total, int(chunk_seed))
                for (start, end), chunk_seed in zip(chunks, seeds)
            ]
            began = time.perf_counter()
            results = list(pool.map(work, tasks)) if workers > 1 else [work(task) for task in tasks]
            seconds = time.perf_counter() - began
            loss = sum(r[0] for r in results)
            predictions = sum(r[1] for r in results)
            words = sum(r[2] for r in results)
            report = EpochReport(epoch + 1, loss / max(1, predictions), words, seconds)
            reports.append(report)
            log.info("epoch %d: loss %.4f, %.0f words/s", report.epoch, report.loss, report.words_per_second)
            if bar is not None:
                bar.set_postfix(epoch=report.epoch, loss=f"{report.loss:.4f}")
    if bar is not None:
        bar.close()
    return reports
