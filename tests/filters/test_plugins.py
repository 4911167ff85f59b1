"""Every step of this area is found through its entry point and its parameters pass the runner's check."""

import pytest

from corpuskit import registry
from corpuskit.pipeline.params import check_params, signature_params
from corpuskit.steps import GlobalStep, Step

NAMES = ["langid", "gopher_quality", "gopher_repetition", "c4", "fineweb", "toxicity", "pii", "exact_dedup", "minhash_dedup"]


@pytest.mark.parametrize("name", NAMES)
def test_step_plugin_loads_and_builds_from_defaults(name):
    cls = registry.load("steps", name)
    assert cls.name == name and issubclass(cls, Step)
    params = signature_params(cls)
    assert all(hint is not None for hint, _ in params.values())
    defaults = {k: d for k, (_, d) in params.items()}
    assert check_params(cls, defaults, name) == defaults
    step = cls(**defaults)
    assert isinstance(step, GlobalStep) == (name in ("exact_dedup", "minhash_dedup"))


def test_dedup_command_registered():
    assert registry.load("commands", "dedup").name == "dedup"
