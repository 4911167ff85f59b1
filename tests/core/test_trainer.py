"""The Trainer / Counts / Model contracts, on a small word-frequency trainer defined here."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from corpuskit.modelfile import ModelFileError
from corpuskit.trainer import Counts, CountsMismatchError, Model, ParamError, Trainer


class WordFreqCounts(Counts):
    """Word counts kept sorted by word, 64-bit."""

    format = "test.word-freq"

    def __init__(self, config: dict, words: list[str], counts: np.ndarray) -> None:
        super().__init__(config)
        self.words, self.counts = words, np.asarray(counts, dtype=np.int64)

    def _merged(self, other: "WordFreqCounts") -> "WordFreqCounts":
        total: Counter = Counter(dict(zip(self.words, self.counts.tolist())))
        total.update(dict(zip(other.words, other.counts.tolist())))
        words = sorted(total)
        return WordFreqCounts(self.config, words, np.array([total[w] for w in words], dtype=np.int64))

    def _to_arrays(self) -> tuple[dict, dict]:
        return {"words": np.array(self.words, dtype=str), "counts": self.counts}, {"distinct": len(self.words)}

    @classmethod
    def _from_arrays(cls, arrays: dict, meta: dict, config: dict) -> "WordFreqCounts":
        if len(arrays["words"]) != meta["distinct"]:
            raise ValueError("word count does not match the metadata")
        return cls(config, arrays["words"].tolist(), arrays["counts"])


class TopWords(Model):
    def __init__(self, words: list[str]) -> None:
        self.words = words

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.words))

    @classmethod
    def load(cls, path: str | Path) -> "TopWords":
        return cls(json.loads(Path(path).read_text()))


@dataclass
class WordFreqConfig:
    top: int = 2
    lowercase: bool = False
    stop_words: list[str] = field(default_factory=list)
    weight: float = 1.0
    tie_break: Literal["alpha", "reverse"] = "alpha"


class WordFreqTrainer(Trainer):
    name = "word-freq"
    config_class = WordFreqConfig
    counts_class = WordFreqCounts
    counting_fields = ("lowercase",)

    def validate_config(self) -> None:
        if self.config.top < 1:
            raise ParamError(f"trainer {self.name!r}: option 'top' must be >= 1, got {self.config.top}")

    def _count(self, texts: Iterable[str], progress: bool) -> WordFreqCounts:
        total: Counter = Counter(w for t in texts for w in (t.lower() if self.config.lowercase else t).split())
        words = sorted(total)
        return WordFreqCounts(self.counting_config(), words, np.array([total[w] for w in words], dtype=np.int64))

    def _train_from_counts(self, counts: WordFreqCounts, corpus: Any) -> TopWords:
        self.config.stop_words.append("")  # a careless trainer: mutates its own copy only
        pairs = [(w, c) for w, c in zip(counts.words, counts.counts.tolist()) if w not in self.config.stop_words]
        pairs.sort(key=lambda p: (-p[1], p[0]), reverse=self.config.tie_break == "reverse")
        return TopWords([w for w, _ in pairs[: self.config.top]])


SHARDS = [["b a", "c a"], ["A b B"], [], ["c c d", "e"]]


def test_options_are_type_checked_with_trainer_option_and_expected_type() -> None:
    with pytest.raises(ParamError, match=r"trainer 'word-freq': option 'top' must be an integer, got '3' \(str\)"):
        WordFreqTrainer(top="3")
    with pytest.raises(ParamError, match="option 'lowercase' must be true or false, got 1"):
        WordFreqTrainer(lowercase=1)
    with pytest.raises(ParamError, match="option 'stop_words' must be a list of a string"):
        WordFreqTrainer(stop_words=["a", 2])
    with pytest.raises(ParamError, match="option 'tie_break' must be one of 'alpha', 'reverse'"):
        WordFreqTrainer(tie_break="random")
    with pytest.raises(ParamError, match=r"unknown option 'x_max'; options: top, lowercase"):
        WordFreqTrainer(x_max=5)
    with pytest.raises(ParamError, match="'top' must be >= 1"):
        WordFreqTrainer(top=0)
    with pytest.raises(ParamError, match="config must be a WordFreqConfig"):
        WordFreqTrainer({"top": 3})
    trainer = WordFreqTrainer(weight=2, stop_words=("x",))
    assert trainer.config.weight == 2.0 and isinstance(trainer.config.weight, float)
    assert trainer.config.stop_words == ["x"]
    with pytest.raises(ParamError, match="option 'top'"):  # a config instance is checked too
        WordFreqTrainer(WordFreqConfig(top=2.5))  # type: ignore[arg-type]


def test_training_never_mutates_the_callers_config() -> None:
    config = WordFreqConfig(top=1, stop_words=["the"])
    trainer = WordFreqTrainer(config, lowercase=True)  # options override a copy
    assert config.lowercase is False and trainer.config.lowercase is True
    trainer.train(["The cat the dog", "cat"])
    trainer.train(["x"])
    assert config == WordFreqConfig(top=1, stop_words=["the"])
    config.stop_words.append("cat")  # nor does the caller's later change reach the trainer
    assert "cat" not in trainer.config.stop_words


def test_merge_in_any_order_equals_counting_everything(tmp_path: Path) -> None:
    trainer = WordFreqTrainer(top=3, lowercase=True)
    whole = trainer.count(itertools.chain.from_iterable(SHARDS))
    parts = [trainer.count(iter(s)) for s in SHARDS]
    snapshots = [(p.words[:], p.counts.copy()) for p in parts]
    results = []
    for order in itertools.permutations(range(len(parts))):
        merged = Counts.merge_all([parts[i] for i in order])
        assert merged == whole
        results.append(merged)
    grouped = parts[0].merge(parts[1]).merge(parts[2].merge(parts[3]))  # associativity
    assert grouped == whole and grouped is not parts[0]
    assert [(p.words, p.counts.tolist()) for p in parts] == [(w, c.tolist()) for w, c in snapshots]  # inputs untouched
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    results[0].save(a)
    results[-1].save(b)
    assert a.read_bytes() == b.read_bytes()
    assert trainer.train_from_counts(results[-1]).words == trainer.train(itertools.chain.from_iterable(SHARDS)).words == ["a", "b", "c"]


def test_different_counting_configs_are_refused_naming_the_key() -> None:
    lower = WordFreqTrainer(lowercase=True).count(["A b"])
    cased = WordFreqTrainer(lowercase=False).count(["A b"])
    with pytest.raises(CountsMismatchError, match="lowercase: True vs False"):
        lower.merge(cased)
    with pytest.raises(CountsMismatchError, match=r"trainer 'word-freq'.*lowercase: True vs False"):
        WordFreqTrainer(lowercase=False).train_from_counts(lower)
    # an option counting does not depend on may differ between counting and training
    assert WordFreqTrainer(lowercase=True, top=1).train_from_counts(lower).words == ["a"]
    with pytest.raises(TypeError, match="trains from WordFreqCounts"):
        WordFreqTrainer().train_from_counts(Counter({"a": 1}))  # type: ignore[arg-type]


def test_counts_save_and_load(tmp_path: Path) -> None:
    counts = WordFreqTrainer(lowercase=True).count(["b a B", "ü 中"])
    counts.save(tmp_path / "c.npz")
    back = WordFreqCounts.load(tmp_path / "c.npz")
    assert back == counts and back.config == {"lowercase": True} and back.words == ["a", "b", "ü", "中"]
    with pytest.raises(CountsMismatchError):
        back.merge(WordFreqTrainer().count(["a"]))

    class OtherCounts(WordFreqCounts):
        format = "test.other-counts"

    with pytest.raises(ModelFileError, match="expected a test.other-counts file.*found format 'test.word-freq'"):
        OtherCounts.load(tmp_path / "c.npz")
    from corpuskit.modelfile import save_arrays

    save_arrays(tmp_path / "bad.npz", "test.word-freq", 1, {"words": np.array(["a"]), "counts": np.array([1])}, {"config": {}, "distinct": 5})
    with pytest.raises(ModelFileError, match="bad.npz: expected a consistent test.word-freq file, found ValueError"):
        WordFreqCounts.load(tmp_path / "bad.npz")


def test_trainers_without_counts_and_trainers_that_reread_the_corpus() -> None:
    @dataclass
    class ShardConfig:
        steps: int = 1

    class ShardTrainer(Trainer):
        name = "shards"
        config_class = ShardConfig

        def train(self, corpus: Iterable[str], progress: bool = False) -> TopWords:
            return TopWords(sorted(corpus)[: self.config.steps])

    trainer = ShardTrainer(steps=1)
    assert trainer.train(["b", "a"]).words == ["a"]
    with pytest.raises(TypeError, match="no counting stage"):
        trainer.count(["a"])

    class Incomplete(Trainer):
        name = "incomplete"
        config_class = ShardConfig

    with pytest.raises(TypeError, match="no counts_class and does not override train"):
        Incomplete()

    seen: list[list[str]] = []

    class Rereading(WordFreqTrainer):
        name = "rereading"
        needs_corpus_after_counting = True

        def _train_from_counts(self, counts: WordFreqCounts, corpus: Any) -> TopWords:
            seen.append(list(corpus))
            return super()._train_from_counts(counts, None)

    rereading = Rereading(top=1)
    counts = rereading.count(["a b a"])
    with pytest.raises(TypeError, match="reads the corpus again after counting"):
        rereading.train_from_counts(counts)
    with pytest.raises(TypeError, match="re-iterable corpus"):
        rereading.train(iter(["a b a"]))
    assert rereading.train(["a b a", "b"]).words == ["a"] and seen[-1] == ["a b a", "b"]
