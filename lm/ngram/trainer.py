"""The `ngram` trainer plugin: stream sentences -> counts -> smoothed backoff model."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Literal

from corpuskit.document import CorpusError
from corpuskit.lm.ngram.counting import NGramCounts, count_ngrams
from corpuskit.lm.ngram.model import NGramModel

log = logging.getLogger(__name__)


@dataclass
class NGramConfig:
    """Parameters of `NGramTrainer` (the CLI's options have the same names)."""

    order: int = 3
    smoothing: Literal["mkn", "kn", "addk", "mle", "stupid"] = "mkn"
    prune: list[int] = field(default_factory=list)  # count cut-off per order, e.g. [0, 0, 1]
    min_count: int = 1  # words seen fewer times become <unk>
    vocabulary: list[str] | None = None  # a fixed vocabulary (others become <unk>)
    add_k: float = 1.0
    stupid_alpha: float = 0.4
    discount_fallback: bool = False  # lmplz's --discount_fallback for tiny data
    memory_mb: float = 2048.0  # counting budget before sorted runs spill to disk

    def __post_init__(self) -> None:
        if self.order < 1:
            raise ValueError(f"order must be >= 1, got {self.order}")
        if self.smoothing not in ("mkn", "kn", "addk", "mle", "stupid"):
            raise ValueError(f"unknown smoothing {self.smoothing!r}; choose mkn, kn, addk, mle or stupid")
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")


class NGramTrainer:
    """Train an n-gram LM (modified Kneser-Ney by default, as KenLM's lmplz) from sentences.

    `train` reads the corpus once (one text = one sentence, words split on ASCII whitespace).
    Memory: counting is bounded by `memory_mb` (spilling to disk); the model is O(n-grams).
    """

    name: ClassVar[str] = "ngram"
    config_class: ClassVar[type] = NGramConfig

    def __init__(self, config: NGramConfig | None = None, **options: object) -> None:
        self.config = config if config is not None else NGramConfig(**options)  # type: ignore[arg-type]

    def count(self, corpus: Iterable[str], progress: bool = False) -> NGramCounts:
        """Count the corpus (the part that can run on shards and be merged with `NGramCounts.merge`)."""
        return count_ngrams(corpus, self.config.order, memory_mb=self.config.memory_mb, progress=progress)

    def train_counts(self, counts: NGramCounts) -> NGramModel:
        """Estimate a model from precomputed counts."""
        from corpuskit.lm.ngram.estimate import estimate

        cfg = self.config
        if counts.order != cfg.order:
            raise ValueError(f"counts are of order {counts.order}, the trainer's order is {cfg.order}")
        if cfg.min_count > 1 or cfg.vocabulary is not None:
            counts = counts.restrict_vocabulary(cfg.min_count, cfg.vocabulary)
            if len(counts.words) <= 3:
                raise CorpusError(f"no word of the corpus is in the vocabulary ({counts.tokens} tokens all became <unk>)")
        model = estimate(counts, cfg.smoothing, cfg.prune or None, cfg.add_k, cfg.stupid_alpha, cfg.discount_fallback)
        model.meta["config"] = asdict(cfg) | {"vocabulary": None if cfg.vocabulary is None else len(cfg.vocabulary)}
        log.info("trained %r", model)
        return model

    def train(self, corpus: Iterable[str], progress: bool = False) -> NGramModel:
        """Count `corpus` (one pass) and estimate the model."""
        return self.train_counts(self.count(corpus, progress=progress))
