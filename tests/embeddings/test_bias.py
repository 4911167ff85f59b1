"""WEAT and hard debiasing on vectors with a planted bias direction."""

import math

import numpy as np
import pytest

from corpuskit.embeddings.bias import bias_direction, hard_debias, weat
from corpuskit.embeddings.keyed_vectors import KeyedVectors

MALE, FEMALE = ["he", "man", "boy", "john"], ["she", "woman", "girl", "mary"]
CAREER, FAMILY = ["office", "salary", "career", "business"], ["home", "parents", "children", "family"]
DIM = 12


def planted(strength=0.5, seed=0):
    """Gender along axis 0; career words lean male, family words lean female by `strength`."""
    rng = np.random.default_rng(seed)
    vectors, words = [], []
    for group, sign in ((MALE, 1), (FEMALE, -1), (CAREER, strength), (FAMILY, -strength)):
        for word in group:
            v = rng.normal(scale=0.3, size=DIM)
            v[0] = sign
            vectors.append(v)
            words.append(word)
    return KeyedVectors(words, np.array(vectors, dtype=np.float32))


def weat_reference(kv, x, y, a, b):
    """Direct transcription of the WEAT formulas, with exact enumeration of partitions."""
    import itertools

    def s(w):
        return np.mean([kv.similarity(w, t) for t in a]) - np.mean([kv.similarity(w, t) for t in b])

    scores = {w: s(w) for w in x + y}
    stat = sum(scores[w] for w in x) - sum(scores[w] for w in y)
    effect = (np.mean([scores[w] for w in x]) - np.mean([scores[w] for w in y])) / np.std(list(scores.values()), ddof=1)
    words = x + y
    greater = 0
    for subset in itertools.combinations(words, len(x)):
        rest = [w for w in words if w not in subset]
        greater += sum(scores[w] for w in subset) - sum(scores[w] for w in rest) > stat + 1e-12
    return effect, greater / math.comb(len(words), len(x))


def test_weat_matches_reference_and_detects_planted_bias():
    kv = planted()
    result = weat(kv, CAREER, FAMILY, MALE, FEMALE)
    effect, p_value = weat_reference(kv, CAREER, FAMILY, MALE, FEMALE)
    assert result.exact and result.permutations == 70
    assert result.effect_size == pytest.approx(effect, rel=1e-5)
    assert result.p_value == pytest.approx(p_value)
    assert result.effect_size > 1.5 and result.p_value < 0.05


def test_weat_sampled_permutations_are_seeded():
    kv = planted()
    a = weat(kv, CAREER, FAMILY, MALE, FEMALE, permutations=50, seed=3)
    b = weat(kv, CAREER, FAMILY, MALE, FEMALE, permutations=50, seed=3)
    assert not a.exact and a.permutations == 50 and a.p_value == b.p_value


def test_bias_direction_finds_the_planted_axis():
    direction = bias_direction(planted(), list(zip(MALE, FEMALE)))
    assert abs(direction[0]) > 0.9 and direction[0] > 0


def test_hard_debias_removes_planted_bias():
    kv = planted()
    debiased = hard_debias(kv, list(zip(MALE[:2], FEMALE[:2])), equalize_pairs=[("boy", "girl")], keep=["john", "mary"])
    direction = bias_direction(kv, list(zip(MALE[:2], FEMALE[:2])))
    for word in CAREER + FAMILY:
        assert abs(debiased.get_vector(word) @ direction) < 1e-5
        assert np.linalg.norm(debiased.get_vector(word)) == pytest.approx(1.0, abs=1e-5)
    after = weat(debiased, CAREER, FAMILY, MALE, FEMALE)
    before = weat(kv, CAREER, FAMILY, MALE, FEMALE)
    assert abs(after.statistic) < 0.1 * abs(before.statistic)  # only the random dimensions remain
    # equalised pair: same distance to every neutral word, opposite sides of the direction
    boy, girl = debiased.get_vector("boy"), debiased.get_vector("girl")
    assert boy @ direction == pytest.approx(-(girl @ direction), abs=1e-5)
    for word in CAREER:
        assert debiased.similarity("boy", word) == pytest.approx(debiased.similarity("girl", word), abs=1e-5)
    # kept words are untouched apart from unit length
    np.testing.assert_allclose(debiased.get_vector("john"), kv.get_vector("john", norm=True), atol=1e-6)
