"""`generate`: batched greedy decoding and sampling on a `LanguageModel` (beam search in `beam.py`).

Rows are independent: each row's scores are processed alone, and a row that emits a stop token
is finished. Finished rows are dropped from the model's state with `reorder`, so the model only
ever steps live rows (no pad token). Sampling is reproducible: one generator seeded with
`seed` draws B uniforms per step (B = number of prompts, finished rows included), and row b uses
the b-th, so a row's draws do not depend on when the other rows finish.
Time per step: O(B * V) (plus a sort of each row for top-p and typical); memory O(B * V).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corpuskit.lm.decoding.beam import beam_search
from corpuskit.lm.decoding.config import DecodingConfig
from corpuskit.lm.decoding.processors import log_softmax, penalised, top_k_filter, top_p_filter, typical_filter
from corpuskit.lm.decoding.protocol import LanguageModel, checked_logprobs


def sampling_scores(scores: np.ndarray, config: DecodingConfig) -> np.ndarray:
    """Temperature, then the strategy's cuts (top-k, top-p, typical) on penalised scores (B, V)."""
    scores = scores / config.temperature
    if config.strategy in ("top-k", "sample") and config.top_k:
        scores = top_k_filter(scores, config.top_k)
    if config.strategy in ("top-p", "sample") and config.top_p < 1:
        scores = top_p_filter(scores, config.top_p)
    if config.strategy == "typical":
        scores = typical_filter(scores, config.typical_p)
    return scores


def draw(scores: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """One token per row from softmax(scores), by inverse CDF at `uniforms` (as `Generator.choice`)."""
    probs = np.exp(log_softmax(scores))
    probs = probs / probs.sum(axis=-1, keepdims=True)
    cdf = np.cumsum(probs, axis=-1)
    cdf /= cdf[:, -1:]
    picked = np.sum(cdf <= uniforms[:, None], axis=-1)
    return np.minimum(picked, scores.shape[-1] - 1).astype(np.int64)


def generate(model: LanguageModel, prompts: Sequence[Sequence[int]], config: DecodingConfig) -> list[list[int]]:
    """The tokens generated after each prompt (prompt excluded; a stop token reached is included).

    `config.strategy` picks greedy (also any strategy at temperature 0), sampling, or beam search
    (the best hypothesis of `beam_search`). At most `max_tokens` per row.
    """
    if config.strategy == "beam":
        return [hypotheses[0][0] if hypotheses else [] for hypotheses in beam_search(model, prompts, config)]
    prompts = [[int(t) for t in p] for p in prompts]
    outputs: list[list[int]] = [[] for _ in prompts]
    if not prompts or config.max_tokens == 0:
        return outputs
    vocab = int(model.vocab_size)
    config.check_token_ids(vocab)
    greedy = config.strategy == "greedy" or config.temperature == 0
    rng = np.random.default_rng(config.seed)
    stops = np.asarray(list(config.stop_tokens), dtype=np.int64)
    logprobs, state = model.start(prompts)
    logprobs = checked_logprobs(logprobs, len(prompts), vocab, "start")
    live = np.arange(len(prompts))  # prompt of each row of the state
    for t in range(config.max_tokens):
        scores = penalised(logprobs, [prompts[r] + outputs[r] for r in live], [outputs[r] for r in live],
                           config.banned_tokens, config.repetition_penalty, config.frequency_penalty, config.presence_penalty)
        if greedy:
            tokens = np.argmax(scores, axis=-1).astype(np.int64)
        else:
            uniforms = rng.random(len(prompts))[live]
            tokens = draw(sampling_scores(scores, config), uniforms)
        for row, token in zip(live, tokens):
            outputs[row].append(int(token))
        going = ~np.isin(tokens, stops)
        if t == config.max_tokens - 1 or not going.any():
            break
        if not going.all():
            keep = np.flatnonzero(going)
            state = model.reorder(state, keep)
            live, tokens = live[keep], tokens[keep]
        logprobs, state = model.step(state, tokens)
        logprobs = checked_logprobs(logprobs, len(live), vocab, "step")
    return outputs
