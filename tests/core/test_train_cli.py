"""`corpuskit train NAME`: a CLI built from a trainer's config, for a trainer registered by a test and for bpe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpuskit.cli import main

PLUGIN = '''
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from corpuskit.trainer import Counts, Model, Trainer


class FreqCounts(Counts):
    format = "thirdparty.freq-counts"

    def __init__(self, config, counts):
        super().__init__(config)
        self.counts = dict(sorted(counts.items()))

    def _merged(self, other):
        total = Counter(self.counts)
        total.update(other.counts)
        return FreqCounts(self.config, total)

    def _to_arrays(self):
        return {"words": np.array(list(self.counts), dtype=str), "counts": np.array(list(self.counts.values()), dtype=np.int64)}, {}

    @classmethod
    def _from_arrays(cls, arrays, meta, config):
        return cls(config, dict(zip(arrays["words"].tolist(), arrays["counts"].tolist())))


class TopWords(Model):
    def __init__(self, words, config):
        self.words, self.config = words, config

    def save(self, path):
        Path(path).write_text(json.dumps({"words": self.words, "config": self.config}, sort_keys=True))

    @classmethod
    def load(cls, path):
        data = json.loads(Path(path).read_text())
        return cls(data["words"], data["config"])


@dataclass
class FreqConfig:
    """Options of the frequency trainer.

    top: how many words the model keeps
    lowercase: lowercase before counting
    """

    top: int = 3
    lowercase: bool = False
    weight: float = 1.0
    order: Literal["count", "alpha"] = "count"
    stop_words: list[str] = field(default_factory=list, metadata={"help": "words never kept"})
    limit: int | None = 10


class FreqTrainer(Trainer):
    """Keeps the most frequent words of a corpus."""

    name = "freq"
    config_class = FreqConfig
    counts_class = FreqCounts
    counting_fields = ("lowercase",)

    def validate_config(self):
        if self.config.top < 1:
            raise ValueError(f"top must be >= 1, got {self.config.top}")

    def _count(self, texts, progress):
        lower = self.config.lowercase
        return FreqCounts(self.counting_config(), Counter(w for t in texts for w in (t.lower() if lower else t).split()))

    def _train_from_counts(self, counts, corpus):
        items = [(w, c) for w, c in counts.counts.items() if w not in self.config.stop_words]
        items.sort(key=(lambda p: (-p[1], p[0])) if self.config.order == "count" else (lambda p: p[0]))
        return TopWords([w for w, _ in items[: self.config.top]], asdict(self.config))
'''


@pytest.fixture
def freq(fake_plugins) -> None:
    fake_plugins({"corpuskit.trainers": {"freq": "thirdparty_freq:FreqTrainer"}}, {"thirdparty_freq": PLUGIN})


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["train", *args])
    return result.exit_code, result.output


def test_a_registered_trainer_gets_a_cli_from_its_config(freq: None, tmp_path: Path) -> None:
    code, output = run("--help")
    assert code == 0 and "freq" in output and "thirdparty_freq:FreqTrainer [corpuskit-testplugins]" in output and "bpe" in output
    code, output = run("freq", "--help")
    assert code == 0 and "Keeps the most frequent words" in output
    for expected in ("--top INT", "how many words the model keeps", "--lowercase / --no-lowercase", "--weight FLOAT", "[count|alpha]", "words never kept", "--limit INT|NONE", "[default: 10]"):
        assert expected in output, expected

    a = tmp_path / "a.txt"
    a.write_text("The cat\nthe dog the end\n")
    b = tmp_path / "b.jsonl"
    b.write_text(json.dumps({"body": "Cat cat dog"}) + "\n")
    out = tmp_path / "model.json"
    code, output = run("freq", "--top", "2", "--lowercase", "--weight", "3", "--order", "alpha", "--stop-words", "cat,end", "--stop-words", "dog", "--limit", "none", "--text-field", "body", str(b), "-o", str(out))
    assert code == 0, output
    model = json.loads(out.read_text())
    assert model["config"] == {"top": 2, "lowercase": True, "weight": 3.0, "order": "alpha", "stop_words": ["cat", "end", "dog"], "limit": None}
    assert model["words"] == []  # b.jsonl holds only stop words
    code, output = run("freq", str(a), "-o", str(out))  # defaults are the config's own
    assert code == 0 and json.loads(out.read_text()) == {"words": ["the", "The", "cat"], "config": {"top": 3, "lowercase": False, "weight": 1.0, "order": "count", "stop_words": [], "limit": 10}}


def test_options_the_trainer_lacks_and_bad_values_are_usage_errors(freq: None, tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text("x y\n")
    out = str(tmp_path / "m.json")
    code, output = run("freq", "--x-max", "5", str(a), "-o", out)
    assert code == 2 and "--x-max is not an option of trainer 'freq'" in output and "--top" in output
    code, output = run("freq", "--top", "many", str(a), "-o", out)
    assert code == 2 and "'many' is not int" in output
    code, output = run("freq", "--order", "random", str(a), "-o", out)
    assert code == 2 and "'random' is not count|alpha" in output
    code, output = run("freq", "--top", "0", str(a), "-o", out)
    assert code == 2 and "top must be >= 1" in output
    code, output = run("nosuch", str(a), "-o", out)
    assert code == 2 and "nosuch" in output
    assert not Path(out).exists()


def test_counts_only_shards_then_from_counts_equals_training_on_everything(freq: None, tmp_path: Path) -> None:
    shards = []
    for i, text in enumerate(["b a\nc a\n", "A b B\n", "c c d e\n"]):
        shards.append(tmp_path / f"s{i}.txt")
        shards[-1].write_text(text)
    for i, shard in enumerate(shards):
        assert run("freq", "--lowercase", "--counts-only", str(shard), "-o", str(tmp_path / f"c{i}.npz"))[0] == 0
    code, output = run("freq", "--lowercase", "--top", "2", "--from-counts", str(tmp_path / "c*.npz"), "-o", str(tmp_path / "from_counts.json"))
    assert code == 0, output
    assert run("freq", "--lowercase", "--top", "2", *map(str, shards), "-o", str(tmp_path / "whole.json"))[0] == 0
    assert (tmp_path / "from_counts.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert json.loads((tmp_path / "whole.json").read_text())["words"] == ["a", "b"]
    code, output = run("freq", "--top", "2", "--from-counts", str(tmp_path / "c0.npz"), "-o", str(tmp_path / "x.json"))
    assert code == 1 and "lowercase: True vs False" in output  # counted lowercased, trained cased


def test_workers_count_each_file_as_a_unit_and_give_the_same_model(freq: None, tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"s{i}.txt").write_text(" ".join(f"w{(i * 7 + j) % 11}" for j in range(30 + i)) + "\n")
    inputs = [str(tmp_path / f"s{i}.txt") for i in range(5)]
    assert run("freq", "--top", "4", *inputs, "-o", str(tmp_path / "one.json"))[0] == 0
    code, output = run("freq", "--top", "4", "--workers", "2", *inputs, "-o", str(tmp_path / "two.json"))
    assert code == 0, output
    assert (tmp_path / "two.json").read_bytes() == (tmp_path / "one.json").read_bytes()


def test_count_in_units_merges_a_tree_to_the_whole_corpus_counts(freq: None, tmp_path: Path) -> None:
    import thirdparty_freq

    from corpuskit.count_units import count_in_units
    from corpuskit.executors.local import LocalExecutor

    texts = [f"a b {'c ' * i}d{i}" for i in range(7)]
    for i, text in enumerate(texts):
        (tmp_path / f"s{i}.txt").write_text(text + "\n")
    trainer = thirdparty_freq.FreqTrainer(lowercase=True)
    with LocalExecutor(workers=1) as executor:
        counts = count_in_units(trainer, [str(tmp_path / "s*.txt")], executor, tmp_path / "work", fan_in=2)
    assert counts == trainer.count(texts)
    assert len(list((tmp_path / "work").glob("counts-3-*.npz"))) == 1  # 7 -> 4 -> 2 -> 1
    with pytest.raises(ValueError, match="fan_in"):
        count_in_units(trainer, [str(tmp_path / "s0.txt")], LocalExecutor(), tmp_path / "w2", fan_in=1)
