"""Plugin discovery through real entry points."""

from click.testing import CliRunner

from corpuskit import registry
from corpuskit.cli import main
from corpuskit.trainer import Model, Trainer

PLUGIN_MODULE = '''
from dataclasses import dataclass, field
from corpuskit.steps import Filter
from corpuskit.trainer import Model, Trainer

class ShortFilter(Filter):
    name = "no_short"
    def __init__(self, min_chars: int = 10) -> None:
        self.min_chars = min_chars
    def drop_reason(self, doc):
        return "short" if len(doc.text) < self.min_chars else None

@dataclass
class CountConfig:
    top: int = 3

class CountModel(Model):
    def __init__(self, counts): self.counts = counts
    def save(self, path):
        import json; open(path, "w").write(json.dumps(self.counts))
    @classmethod
    def load(cls, path):
        import json; return cls(json.loads(open(path).read()))

class CountTrainer(Trainer):
    name = "count"
    config_class = CountConfig
    def train(self, corpus):
        from collections import Counter
        return CountModel(dict(Counter(w for t in corpus for w in t.split()).most_common(self.config.top)))
'''


def test_builtin_plugins_are_registered_through_our_own_entry_points():
    steps = registry.plugins("steps")
    assert steps["normalize"].package == "corpuskit"
    assert {"text", "jsonl", "parquet", "hf", "wiki", "warc"} <= set(registry.plugins("readers"))
    assert {"jsonl", "parquet"} <= set(registry.plugins("writers"))


def test_third_party_plugins_are_discovered(fake_plugins, tmp_path):
    fake_plugins(
        {"corpuskit.steps": {"no_short": "thirdparty:ShortFilter"}, "corpuskit.trainers": {"count": "thirdparty:CountTrainer"}},
        {"thirdparty": PLUGIN_MODULE},
    )
    steps = registry.plugins("steps")
    assert steps["no_short"].package == "corpuskit-testplugins"
    cls = registry.load("steps", "no_short")
    assert cls(min_chars=5).drop_reason(type("D", (), {"text": "abc"})()) == "short"

    trainer = registry.load("trainers", "count")(top=1)
    assert isinstance(trainer, Trainer)
    model = trainer.train(iter(["a b a", "a c"]))
    assert isinstance(model, Model)
    model.save(tmp_path / "m.json")
    assert type(model).load(tmp_path / "m.json").counts == {"a": 3}

    result = CliRunner().invoke(main, ["plugins", "list", "--check"])
    assert result.exit_code == 0
    line = next(l for l in result.output.splitlines() if "no_short" in l)
    assert "corpuskit-testplugins" in line and "ok" in line


def test_unknown_plugin_error_lists_known_names():
    try:
        registry.load("steps", "no_such_step")
    except registry.PluginError as exc:
        assert "no_such_step" in str(exc) and "normalize" in str(exc)
    else:
        raise AssertionError("expected PluginError")


def test_broken_plugin_is_reported_not_fatal(fake_plugins):
    fake_plugins({"corpuskit.steps": {"broken": "does_not_exist_module:Nope"}}, {})
    result = CliRunner().invoke(main, ["plugins", "list", "--kind", "steps", "--check"])
    assert result.exit_code == 0
    assert "BROKEN" in next(l for l in result.output.splitlines() if "broken" in l)
