"""Decoding strategies on hand-built distributions where the right answer is known, batched."""

from __future__ import annotations

import math

import numpy as np
import pytest

from corpuskit.lm.decoding import (DecodingConfig, LanguageModel, PrefixModel, apply_penalties, apply_repetition_penalty,
                                   beam_search, generate, log_softmax, top_k_filter, top_p_filter, typical_filter)

LOGP = np.log(np.array([0.5, 0.3, 0.15, 0.05]))


def constant(logp: np.ndarray) -> PrefixModel:
    return PrefixModel(lambda tokens: logp, len(logp))


def one(model, cfg: DecodingConfig, prompt=()) -> list[int]:
    return generate(model, [list(prompt)], cfg)[0]


class Recording:
    """Wraps a model and records the rows of every call (to see batching, shrinking and early stops)."""

    def __init__(self, model: LanguageModel) -> None:
        self.model, self.vocab_size, self.calls = model, model.vocab_size, []

    def start(self, prompts):
        self.calls.append(("start", len(prompts)))
        return self.model.start(prompts)

    def step(self, state, tokens):
        self.calls.append(("step", len(tokens)))
        return self.model.step(state, tokens)

    def reorder(self, state, indices):
        self.calls.append(("reorder", list(map(int, indices))))
        return self.model.reorder(state, indices)


def test_prefix_model_is_a_language_model() -> None:
    assert isinstance(constant(LOGP), LanguageModel)


def test_greedy_takes_the_argmax_and_stops() -> None:
    assert one(constant(LOGP), DecodingConfig(max_tokens=3)) == [0, 0, 0]
    assert one(constant(LOGP), DecodingConfig(max_tokens=9, stop_tokens=[0])) == [0]
    assert one(constant(LOGP), DecodingConfig(max_tokens=0)) == []
    assert generate(constant(LOGP), [], DecodingConfig()) == []


def counting(tokens):
    """Next token = (last + 1) mod 5; after 4 comes the stop token 5."""
    out = np.full(6, -20.0)
    out[(tokens[-1] + 1) % 5 if tokens[-1] != 4 else 5] = 0.0
    return out


def test_batched_rows_are_independent_and_finished_rows_leave_the_state() -> None:
    model = Recording(PrefixModel(counting, 6))
    prompts = [[0], [3], [1, 2]]
    out = generate(model, prompts, DecodingConfig(max_tokens=6, stop_tokens=[5]))
    assert out == [[1, 2, 3, 4, 5], [4, 5], [3, 4, 5]]
    for prompt, expected in zip(prompts, out):
        assert one(PrefixModel(counting, 6), DecodingConfig(max_tokens=6, stop_tokens=[5]), prompt) == expected
    # row 1 stops after 2 tokens, row 2 after 3: the state shrinks instead of stepping them
    assert model.calls == [("start", 3), ("step", 3), ("reorder", [0, 2]), ("step", 2), ("reorder", [0]), ("step", 1), ("step", 1)]


def test_presence_frequency_and_repetition_penalties_move_greedy() -> None:
    out = one(constant(LOGP), DecodingConfig(max_tokens=3, presence_penalty=10.0))
    assert out == [0, 1, 2]  # each token is penalised once used
    penalised = apply_penalties(LOGP, [0, 0, 1], frequency=0.5, presence=0.25)
    np.testing.assert_allclose(penalised, LOGP - np.array([1.25, 0.75, 0, 0]))
    # Hugging Face's definition: positive scores divided, negative multiplied
    scores = np.array([2.0, -2.0, 1.0, -1.0])
    np.testing.assert_allclose(apply_repetition_penalty(scores, [0, 1, 1], 2.0), [1.0, -4.0, 1.0, -1.0])
    # log 0.5 * 3 < log 0.3: the prompt's token 0 is avoided, then the output's 1
    assert one(constant(LOGP), DecodingConfig(max_tokens=2, repetition_penalty=3.0), prompt=[0]) == [1, 2]
    assert one(constant(LOGP), DecodingConfig(max_tokens=2, repetition_penalty=1.2)) == [0, 0]


def test_top_k_top_p_typical_keep_the_right_sets() -> None:
    assert np.isfinite(top_k_filter(LOGP, 2)).tolist() == [True, True, False, False]
    assert np.isfinite(top_p_filter(LOGP, 0.8)).tolist() == [True, True, False, False]
    assert np.isfinite(top_p_filter(LOGP, 0.81)).tolist() == [True, True, True, False]
    assert np.isfinite(top_p_filter(LOGP, 0.1)).tolist() == [True, False, False, False]
    entropy = -np.sum(np.exp(LOGP) * LOGP)
    closest = int(np.argmin(np.abs(-LOGP - entropy)))
    assert np.isfinite(typical_filter(LOGP, 0.01)).tolist() == [i == closest for i in range(4)]


def test_filters_work_row_by_row_on_a_batch() -> None:
    rng = np.random.default_rng(0)
    batch = log_softmax(rng.normal(size=(7, 33)) * 3)
    batch[2, 5:] = -np.inf
    for cut, arg in ((top_k_filter, 4), (top_p_filter, 0.7), (typical_filter, 0.6)):
        together = cut(batch, arg)
        for row in range(len(batch)):
            np.testing.assert_array_equal(together[row], cut(batch[row], arg))
    np.testing.assert_allclose(np.exp(log_softmax(batch)).sum(axis=1), 1.0)


@pytest.mark.parametrize("strategy,cfg,allowed", [("top-k", {"top_k": 2}, {0, 1}), ("top-p", {"top_p": 0.8}, {0, 1}),
                                                  ("typical", {"typical_p": 0.3}, {1})])
def test_sampling_respects_the_cut_and_is_reproducible(strategy, cfg, allowed) -> None:
    config = DecodingConfig(strategy=strategy, max_tokens=200, seed=5, **cfg)
    first = one(constant(LOGP), config)
    assert set(first) <= allowed and len(set(first)) == len(allowed)
    assert one(constant(LOGP), config) == first


def test_sampling_rows_differ_and_do_not_depend_on_other_rows_stopping() -> None:
    config = DecodingConfig(strategy="sample", max_tokens=30, seed=7, stop_tokens=[3])
    rows = generate(constant(LOGP), [[], [], []], config)
    assert rows[0] != rows[1] or rows[1] != rows[2]
    no_stop = generate(constant(LOGP), [[], [], []], DecodingConfig(strategy="sample", max_tokens=30, seed=7))
    for stopped, free in zip(rows, no_stop):  # same draws until a row stops
        assert stopped == free[: len(stopped)]
        assert 3 not in stopped[:-1]


def test_temperature_sharpens_and_flattens() -> None:
    sharp = one(constant(LOGP), DecodingConfig(strategy="sample", temperature=0.05, max_tokens=100, seed=1))
    flat = one(constant(LOGP), DecodingConfig(strategy="sample", temperature=50.0, max_tokens=400, seed=1))
    assert sharp.count(0) >= 99
    assert min(np.bincount(flat, minlength=4)) > 60  # close to uniform
    assert one(constant(LOGP), DecodingConfig(strategy="sample", temperature=0.0, max_tokens=5)) == [0] * 5


def test_sample_frequencies_follow_the_distribution() -> None:
    drawn = one(constant(LOGP), DecodingConfig(strategy="sample", max_tokens=4000, seed=3))
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
    best = beam_search(PrefixModel(tree, 4), [[]], cfg)[0]
    assert best[0][0] == [1, 3]
    assert best[0][1] == pytest.approx(math.log(0.45), abs=1e-6)
    assert one(PrefixModel(tree, 4), cfg) == [1, 3]
    assert one(PrefixModel(tree, 4), DecodingConfig(max_tokens=2, stop_tokens=[3]))[0] == 0  # greedy goes the other way


def test_beam_search_over_a_batch_equals_one_prompt_at_a_time() -> None:
    def model(tokens):
        rng = np.random.default_rng(hash(tuple(tokens)) % 2**32)
        return log_softmax(rng.normal(size=6) * 2)

    cfg = DecodingConfig(strategy="beam", beam_size=3, max_tokens=5, stop_tokens=[0], length_penalty=0.7)
    prompts = [[1], [2, 3], [4], [5, 5, 1]]
    together = beam_search(PrefixModel(model, 6), prompts, cfg)
    assert together == [beam_search(PrefixModel(model, 6), [p], cfg)[0] for p in prompts]


def test_length_normalisation_prefers_longer_hypotheses() -> None:
    def model(tokens):
        return np.log([0.4, 0.6]) if len(tokens) < 3 else np.log([1e-9, 1.0])
    short = beam_search(PrefixModel(model, 2), [[]], DecodingConfig(beam_size=3, max_tokens=4, stop_tokens=[0], length_penalty=0.0))
    long = beam_search(PrefixModel(model, 2), [[]], DecodingConfig(beam_size=3, max_tokens=4, stop_tokens=[0], length_penalty=1.0))
    assert short[0][0][0] == [0]
    assert len(long[0][0][0]) > 1


def test_beam_search_stops_early_exactly_as_documented() -> None:
    """Every step: stop token 2 has p 0.8, tokens 0 and 1 have 0.1 each (beam 2, max 10 tokens).

    After step 1 the finished hypotheses are [2] and [0, 2] (log 0.8, log 0.08) and the best
    live one has log 0.01. Length penalty 0: log 0.01 <= log 0.08, so the search stops after step
    2 (one `step` call). Length penalty 1: a live hypothesis of length n has n * log 0.1 and could
    reach n * log 0.1 / 10 at best; the worst finished scores log(0.08) / 2, so it stops at the
    first n with n * log 0.1 / 10 <= log(0.08) / 2, n = 6 (five `step` calls).
    """
    flat = np.log([0.1, 0.1, 0.8])
    for penalty, steps in ((0.0, 1), (1.0, 5)):
        model = Recording(PrefixModel(lambda tokens: flat, 3))
        cfg = DecodingConfig(strategy="beam", beam_size=2, max_tokens=10, stop_tokens=[2], length_penalty=penalty)
        best = beam_search(model, [[]], cfg)[0]
        assert [tokens for tokens, _ in best] == [[2], [0, 2]]
        assert sum(1 for call in model.calls if call[0] == "step") == steps
        n = steps + 1
        assert n * math.log(0.1) / 10 ** penalty <= math.log(0.08) / 2 ** penalty  # the rule holds at the stop
        assert penalty == 0 or (n - 1) * math.log(0.1) / 10 > math.log(0.08) / 2  # and not one step earlier


def test_bad_configs_and_models_are_rejected() -> None:
    with pytest.raises(ValueError):
        DecodingConfig(top_p=0)
    with pytest.raises(ValueError, match="repetition_penalty"):
        DecodingConfig(repetition_penalty=0)
    with pytest.raises(ValueError, match="strategy"):
        DecodingConfig(strategy="nucleus")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        log_softmax(np.full(3, -np.inf))
    with pytest.raises(ValueError, match="stop_tokens: 9"):
        generate(constant(LOGP), [[]], DecodingConfig(stop_tokens=[9]))
    with pytest.raises(ValueError, match=r"shape \(3,\) for prefix \[\], expected \(4,\)"):
        generate(PrefixModel(lambda tokens: LOGP[:3], 4), [[]], DecodingConfig())

    class Short:
        vocab_size = 4

        def start(self, prompts):
            return np.zeros((len(prompts), 3)), None

    with pytest.raises(ValueError, match=r"LanguageModel.start returned logprobs of shape \(2, 3\), expected \(2, 4\)"):
        generate(Short(), [[], []], DecodingConfig())
