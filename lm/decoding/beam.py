"""Batched beam search on a `LanguageModel`: `beam_size` hypotheses per prompt, one model call per step.

All prompts' live hypotheses are rows of one model state; `reorder` copies the parent rows of
the hypotheses kept, then `step` feeds their last tokens. A prompt whose search has stopped
leaves the state. Time per step: O(rows * V) with rows <= B * beam_size; memory O(rows * V).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corpuskit.lm.decoding.config import DecodingConfig
from corpuskit.lm.decoding.processors import log_softmax, penalised
from corpuskit.lm.decoding.protocol import LanguageModel, checked_logprobs

Hypothesis = tuple[list[int], float]  # tokens, score


def beam_search(model: LanguageModel, prompts: Sequence[Sequence[int]], config: DecodingConfig) -> list[list[Hypothesis]]:
    """For each prompt, its `beam_size` best continuations with their scores, best first.

    Score = total log-probability / length ** length_penalty (length_penalty 0: the raw
    log-probability). Penalties and banned tokens apply before each step's scores are
    renormalised. Each step extends every live hypothesis by its `beam_size` best tokens, ranks
    all extensions by score (ties keep the earlier hypothesis first), and walks down that ranking:
    an extension ending in a stop token is finished (kept if among the `beam_size` best finished),
    the others become the next live hypotheses until `beam_size` of them are taken.

    A prompt's search stops at the first of:
    - no live hypothesis is left;
    - `beam_size` hypotheses have finished and the best live one cannot beat the worst of them
      any more: its log-probability can only fall, so its best reachable score is its
      log-probability divided by L ** length_penalty at the most favourable length L it could
      still have (between the next length and `max_tokens`); stopped when that is <= the worst
      finished score. Stopping there never changes the result;
    - `max_tokens` steps.
    The result is the finished hypotheses, plus the live ones when fewer than `beam_size` finished.
    """
    prompts = [[int(t) for t in p] for p in prompts]
    beams: list[list[Hypothesis]] = [[([], 0.0)] for _ in prompts]  # live: tokens, log-probability
    finished: list[list[Hypothesis]] = [[] for _ in prompts]
    if prompts and config.max_tokens > 0:
        _search(model, prompts, config, beams, finished)
    return [_ranked(f, b, config) for f, b in zip(finished, beams)]


def _normalised(logp: float, length: int, length_penalty: float) -> float:
    return logp / (max(length, 1) ** length_penalty) if length_penalty else logp


def _ranked(finished: list[Hypothesis], beams: list[Hypothesis], config: DecodingConfig) -> list[Hypothesis]:
    pool = finished + beams if len(finished) < config.beam_size else finished
    ranked = sorted(((t, _normalised(lp, len(t), config.length_penalty)) for t, lp in pool), key=lambda r: -r[1])
    return ranked[: config.beam_size]


def _cannot_improve(beams: list[Hypothesis], finished: list[Hypothesis], config: DecodingConfig) -> bool:
    """The early stop of `beam_search`'s docstring (beams sorted best first, all of one length)."""
    if len(finished) < config.beam_size:
        return False
    tokens, logp = beams[0]
    lengths = (len(tokens) + 1, max(config.max_tokens, len(tokens) + 1))
    best = max(_normalised(logp, n, config.length_penalty) for n in lengths)  # monotone in the length
    worst_tokens, worst_logp = finished[-1]
    return best <= _normalised(worst_logp, len(worst_tokens), config.length_penalty)


def _search(model: LanguageModel, prompts: list[list[int]], config: DecodingConfig,
            beams: list[list[Hypothesis]], finished: list[list[Hypothesis]]) -> None:
    vocab = int(model.vocab_size)
    config.check_token_ids(vocab)
    stops = {int(t) for t in config.stop_tokens}
    penalty = config.length_penalty
    logprobs, state = model.start(prompts)
    logprobs = checked_logprobs(logprobs, len(prompts), vocab, "start")
    live = list(range(len(prompts)))  # prompts still searching; their beams are the state's rows, in order
    for t in range(config.max_tokens):
        row_prompt = [p for p in live for _ in beams[p]]
        row_tokens = [tokens for p in live for tokens, _ in beams[p]]
        scores = log_softmax(penalised(logprobs, [prompts[p] + tk for p, tk in zip(row_prompt, row_tokens)], row_tokens,
                                       config.banned_tokens, config.repetition_penalty, config.frequency_penalty,
                                       config.presence_penalty))
        parents: list[int] = []
        next_tokens: list[int] = []
        still: list[int] = []
        row = 0
        for p in live:
            candidates: list[tuple[float, list[int], float, int]] = []
            for tokens, logp in beams[p]:
                row_scores = scores[row]
                k = min(config.beam_size, int(np.isfinite(row_scores).sum()))
                for token in np.argpartition(-row_scores, k - 1)[:k]:
                    new_logp = logp + float(row_scores[token])
                    candidates.append((_normalised(new_logp, len(tokens) + 1, penalty), tokens + [int(token)], new_logp, row))
                row += 1
            candidates.sort(key=lambda c: -c[0])
            kept: list[tuple[list[int], float, int]] = []
            for _, tokens, logp, parent in candidates:
                if tokens[-1] in stops:
                    finished[p].append((tokens, logp))
                else:
                    kept.append((tokens, logp, parent))
                if len(kept) == config.beam_size:
                    break
            finished[p].sort(key=lambda f: -_normalised(f[1], len(f[0]), penalty))
            del finished[p][config.beam_size:]
            beams[p] = [(tokens, logp) for tokens, logp, _ in kept]
            if not kept or _cannot_improve(beams[p], finished[p], config):
                continue
            still.append(p)
            parents.extend(parent for _, _, parent in kept)
            next_tokens.extend(tokens[-1] for tokens, _, _ in kept)
        live = still
        if not live or t == config.max_tokens - 1:
            break
        state = model.reorder(state, np.asarray(parents, dtype=np.int64))
        logprobs, state = model.step(state, np.asarray(next_tokens, dtype=np.int64))
        logprobs = checked_logprobs(logprobs, len(parents), vocab, "step")
