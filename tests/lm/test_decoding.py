"""Decoding strategies on hand-built distributions where the right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from corpuskit.lm.decoding import (DecodingConfig, apply_penalties, beam_search, generate, log_softmax, top_k_filter,
                                   top_p_filter, typical_filter)

LOGP = np.log(np.array([0.5, 0.3, 0.15, 0.05]))


def constant(logp: np.ndarray):
    return lambda tokens: logp


def test_greedy_takes_the_argmax_and_stops() -> None:
    assert generate(constant(LOGP), [], DecodingConfig(max_tokens=3)) == [0, 0, 0]
    assert generate(constant(LOGP), [], DecodingConfig(max_tokens=9, stop_tokens=[0])) == [0]


def test_presence_and_frequency_penalties_move_greedy() -> None:
    out = generate(constant(LOGP), [], DecodingConfig(max_tokens=3, presence_penalty=10.0))
    assert out == [0, 1, 2]  # each token is penalised once used
    penalised = apply_penalties(LOGP, [0, 0, 1], frequency=0.5, presence=0.25)
    np.testing.assert_allclose(penalised, LOGP - np.array([1.25, 0.75, 0, 0]))


def test_top_k_top_p_typical_keep_the_right_sets() -> None:
    assert np.isfinite(top_k_filter(LOGP, 2)).tolist() == [True, True, False, False]
    assert np.isfinite(top_p_filter(LOGP, 0.8)).tolist() == [True, True, False, False]
    assert np.isfinite(top_p_filter(LOGP, 0.81)).tolist() == [True, True, True, False]
    assert np.isfinite(top_p_filter(LOGP, 0.1)).tolist() == [True, False, False, False]
    entropy = -np.sum(np.exp(LOGP) * LOGP)
    closest = int(np.argmin(np.abs(-LOGP - entropy)))
    assert np.isfinite(typical_filter(LOGP, 0.01)).tolist() == [i == closest for i in range(4)]


@pytest.mark.parametrize("strategy,cfg,allowed", [("top-k", {"top_k": 2}, {0, 1}), ("top-p", {"top_p": 0.8}, {0, 1}),
                                                  ("typical", {"typical_p": 0.3}, {1})])
def test_sampling_respects_the_cut_and_is_reproducible(strategy, cfg, allowed) -> None:
    config = DecodingConfig(strategy=strategy, max_tokens=200, seed=5, **cfg)
    first = generate(constant(LOGP), [], config)
    assert set(first) <= allowed and len(set(first)) == len(allowed)
    assert generate(constant(LOGP), [], config) == first


def test_temperature_sharpens_and_flattens() -> None:
    sharp = generate(constant(LOGP), [], DecodingConfig(strategy="sample", temperature=0.05, max_tokens=100, seed=1))
    flat = generate(constant(LOGP), [], DecodingConfig(strategy="sample", temperature=50.0, max_tokens=400, seed=1))
    assert sharp.count(0) >= 99
    assert min(np.bincount(flat, minlength=4)) > 60  # close to uniform


def test_sample_frequencies_follow_the_distribution() -> None:
    drawn = generate(constant(LOGP), [], DecodingConfig(strategy="sample", max_tokens=4000, seed=3))
    np.testing.assert_allclose(np.bincount(drawn, minlength=4) / 4000, np.exp(LOGP), atol=0.03)


def tree(tokens):
    """First step favours 0, but 0 leads to a flat tail; 1 leads to a sure stop (token 3)."""
    if not tokens:
        return np.log([0.55, 0.45, 1e-9, 1e-9])
    if tokens[0] == 0:
        return np.log([0.25, 0.25, 0.25, 0.25])
    return np.log([1e-9, 1e-9, 1e-9, 1.0])


def test_beam_search_beats_greedy_and_handles_end_of_sequence() -> None:
    cfg = DecodingConfig(strategy="beam", beam_size=2, max_tokens=2, stop_tokens=[3], length_penalty=0.0)
    best = beam_search(tree, [], cfg)
    assert best[0][0] == [1, 3]
    assert best[0][1] == pytest.approx(math.log(0.45), abs=1e-6)
    assert generate(tree, [], DecodingConfig(max_tokens=2, stop_tokens=[3]))[0] == 0  # greedy goes the other way


def test_length_normalisation_prefers_longer_hypotheses() -> None:
    def model(tokens):
        return np.log([0.4, 0.6]) if len(tokens) < 3 else np.log([1e-9, 1.0])
    short = beam_search(model, [], DecodingConfig(beam_size=3, max_tokens=4, stop_tokens=[0], length_penalty=0.0))
    long = beam_search(model, [], DecodingConfig(beam_size=3, max_tokens=4, stop_tokens=[0], length_penalty=1.0))
    assert short[0][0] == [0]
    assert len(long[0][0]) > 1


def test_bad_configs_are_rejected() -> None:
    with pytest.raises(ValueError):
        DecodingConfig(top_p=0)
    with pytest.raises(ValueError):
        log_softmax(np.full(3, -np.inf))
