"""The `ngram` trainer plugin: stream sentences -> counts -> smoothed backoff model."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Literal

from corpuskit.document import CorpusError
from corpuskit.lm.ngram.counting import NGramCounts, count_ngrams
from corpuskit.lm.ngram.model import NGramModel
from corpuskit.trainer import Trainer

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
    lowercase: bool = False  # lower-case each sentence before counting

    def __post_init__(self) -> None:
        if self.order < 1:
            raise ValueError(f"order must be >= 1, got {self.order}")
        if self.smoothing not in ("mkn", "kn", "addk", "mle", "stupid"):
            raise ValueError(f"unknown smoothing {self.smoothing!r}; choose mkn, kn, addk, mle or stupid")
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")


class NGramTrainer(Trainer):
    """Train an n-gram LM (modified Kneser-Ney by default, as KenLM's lmplz) from sentences.

    `count(texts)` gives `NGramCounts` of a shard (counting config: `order`, `lowercase`);
    shards merge with `NGramCounts.merge` in any order; `train_from_counts(counts)` cuts the
    vocabulary (`min_count`, `vocabulary`) and estimates. `train` reads the corpus once (one
    text = one sentence, words split on ASCII whitespace). Memory: counting is bounded by
    `memory_mb` (spilling to disk); the model is O(n-grams).
    """

    name: ClassVar[str] = "ngram"
    config_class: ClassVar[type] = NGramConfig
    counts_class: ClassVar[type] = NGramCounts
    counting_fields: ClassVar[tuple[str, ...]] = ("lowercase", "order")

    def _count(self, texts: Iterable[str], progress: bool) -> NGramCounts:
        c = self.config
        return count_ngrams(texts, c.order, memory_mb=c.memory_mb, progress=progress, lowercase=c.lowercase)

    def _train_from_counts(self, counts, corpus) -> NGramModel:  # type: ignore[no-untyped-def]
        """Estimate a model from precomputed (maybe merged) counts."""
        from corpuskit.lm.ngram.estimate import estimate

        cfg = self.config
        if cfg.min_count > 1 or cfg.vocabulary is not None:
            counts = counts.restrict_vocabulary(cfg.min_count, cfg.vocabulary)
            if len(counts.words) <= 3:
                raise CorpusError(f"no word of the corpus is in the vocabulary ({counts.tokens} tokens all became <unk>)")
        model = estimate(counts, cfg.smoothing, cfg.prune or None, cfg.add_k, cfg.stupid_alpha, cfg.discount_fallback)
        model.meta["config"] = asdict(cfg) | {"vocabulary": None if cfg.vocabulary is None else len(cfg.vocabulary)}
        log.info("trained %r", model)
        return model
