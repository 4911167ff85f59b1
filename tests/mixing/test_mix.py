"""The `mix` step: temperature shares within tolerance, determinism across shardings, validation."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.document import Document, Drop
from corpuskit.mixing.mix import TemperatureMix, temperature_quotas, whole_quotas
from corpuskit.steps import GlobalWork

SIZES = {"en": 6000, "fr": 1500, "de": 400, "sw": 100}


def corpus(seed: int = 0) -> list[Document]:
    """Documents of four languages in a shuffled order, plus 50 without a language."""
    docs = [Document(f"{lang}-{i}", f"text {i}", {"lang": lang}) for lang, n in SIZES.items() for i in range(n)]
    docs += [Document(f"none-{i}", f"text {i}", {}) for i in range(50)]
    order = np.random.default_rng(seed).permutation(len(docs))
    return [docs[i] for i in order]


def run(step: TemperatureMix, shards: list[list[Document]], directory) -> dict[str, bool]:
    """Fit over the shards, then process each shard in a fresh worker; id -> kept."""
    step.fit([iter(shard) for shard in shards], directory)
    kept = {}
    for index, shard in enumerate(shards):
        worker = TemperatureMix(**{k: getattr(step, k) for k in ("temperature", "target_documents", "fraction", "seed", "lang_key", "unlabelled")})
        worker.load_shard_state(GlobalWork(directory, len(shards)), index)
        for doc in shard:
            result = worker.process(doc)
            kept[doc.id] = not isinstance(result, Drop)
            if isinstance(result, Drop):
                assert result.reason in ("mix_not_sampled", "mix_no_language")
    return kept


def shares(kept: dict[str, bool]) -> dict[str, float]:
    total = sum(kept.values())
    return {lang: sum(v for k, v in kept.items() if k.startswith(lang + "-")) / total for lang in SIZES}


def expected_shares(temperature: float) -> dict[str, float]:
    weights = {lang: n ** (1 / temperature) for lang, n in SIZES.items()}
    return {lang: w / sum(weights.values()) for lang, w in weights.items()}


@pytest.mark.parametrize("temperature, target", [(1.0, 2000), (3.0, 800)])  # 800: no language runs out at T=3
def test_shares_follow_the_temperature_and_summary_reports_them(tmp_path, temperature, target):
    docs = corpus()
    step = TemperatureMix(temperature=temperature, target_documents=target, seed=7)
    kept = run(step, [docs[:3000], docs[3000:5000], docs[5000:]], tmp_path)
    achieved = shares(kept)
    for lang, share in expected_shares(temperature).items():
        assert achieved[lang] == pytest.approx(share, abs=0.01)
    assert target - 10 <= sum(kept.values()) <= target
    assert not any(kept[f"none-{i}"] for i in range(50))  # no language, no bucket: dropped
    counters = step.counters()
    assert counters["input: en"] == 6000 and counters["input: sw"] == 100
    for lang in SIZES:  # the summary's counts are the achieved ones, exactly
        assert counters[f"kept: {lang}"] == sum(v for k, v in kept.items() if k.startswith(lang + "-"))
        assert counters[f"share_ppm: {lang}"] / 1e6 == pytest.approx(achieved[lang], abs=1e-6)


def test_large_temperature_is_close_to_uniform_where_languages_allow(tmp_path):
    docs = corpus()
    kept = run(TemperatureMix(temperature=100.0, target_documents=1200, seed=1), [docs], tmp_path)
    achieved = shares(kept)
    for lang in SIZES:  # 1200 / 4 = 300 each would exceed sw's 100: sw keeps all, the others share the rest
        assert sum(v for k, v in kept.items() if k.startswith(lang + "-")) <= SIZES[lang]
    assert sum(v for k, v in kept.items() if k.startswith("sw-")) == 100
    assert achieved["en"] == pytest.approx(achieved["fr"], abs=0.02)
    assert achieved["fr"] == pytest.approx(achieved["de"], abs=0.02)


def test_outcome_is_independent_of_sharding_and_order(tmp_path):
    docs = corpus()
    one = run(TemperatureMix(temperature=2.0, fraction=0.25, seed=3), [docs], tmp_path / "a")
    shuffled = corpus(seed=5)
    many = run(TemperatureMix(temperature=2.0, fraction=0.25, seed=3), [shuffled[i::5] for i in range(5)], tmp_path / "b")
    assert one == many
    other_seed = run(TemperatureMix(temperature=2.0, fraction=0.25, seed=4), [docs], tmp_path / "c")
    assert other_seed != one and sum(other_seed.values()) == pytest.approx(sum(one.values()), abs=10)


def test_unlabelled_bucket_is_sampled_like_a_language(tmp_path):
    docs = corpus()
    step = TemperatureMix(temperature=1.0, target_documents=len(docs) // 2, unlabelled="und")
    kept = run(step, [docs], tmp_path)
    assert 15 <= sum(kept[f"none-{i}"] for i in range(50)) <= 25
    assert step.counters()["input: und"] == 50


def test_quotas_water_fill_and_parameters_are_checked():
    assert temperature_quotas({"en": 900, "fr": 100}, 1.0, 500) == pytest.approx({"en": 450, "fr": 50})
    quotas = temperature_quotas({"a": 1000, "b": 10}, 1e6, 500)  # b is exhausted: a gets the rest
    assert quotas == pytest.approx({"a": 490, "b": 10}, rel=1e-4)
    assert sum(temperature_quotas({"a": 5, "b": 3}, 2.0, 100).values()) == 8
    assert whole_quotas({"a": 1.5, "b": 1.5}, {"a": 5, "b": 5}) == {"a": 2, "b": 1}
    counts = {f"l{i}": 3 + i for i in range(30)}
    quotas = whole_quotas(temperature_quotas(counts, 2.0, 101), counts)
    assert sum(quotas.values()) == 101 and all(quotas[lang] <= counts[lang] for lang in counts)
    with pytest.raises(ValueError, match="exactly one"):
        TemperatureMix(target_documents=10, fraction=0.5)
    with pytest.raises(ValueError, match="temperature"):
        TemperatureMix(temperature=0, fraction=0.5)
    with pytest.raises(ValueError, match="fraction"):
        TemperatureMix(fraction=1.5)


def test_large_shards_fold_their_histograms_without_changing_the_outcome(tmp_path):
    docs = [Document(f"d{i}", "", {"lang": "ab"[i % 3 == 0]}) for i in range(70_000)]  # > 2^16: folds once
    step = TemperatureMix(temperature=1.0, target_documents=7_000)
    step.fit([iter(docs)], tmp_path)
    counters = step.counters()
    assert counters["input: a"] + counters["input: b"] == 70_000 and counters["input: b"] == 23_334
    kept = sum(not isinstance(step.process(d), Drop) for d in docs)
    assert kept == counters["kept: a"] + counters["kept: b"] and 6_990 <= kept <= 7_000
