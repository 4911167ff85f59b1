"""Score processors: normalisation, penalties and the sampling cuts, on the last axis.

Each takes scores of shape (V,) or (B, V) (natural-log probabilities or logits) and returns new
ones; a removed token gets -inf. Memory and time: O(B * V), the sorts O(B * V log V).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Normalised log-probabilities (float64) of each row; -inf stays -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    top = np.max(logits, axis=-1, keepdims=True)
    if not np.isfinite(top).all():
        bad = np.flatnonzero(~np.isfinite(top.ravel()))
        where = f" (row {int(bad[0])})" if logits.ndim > 1 else ""
        raise ValueError(f"every token has probability 0{where}")
    shifted = logits - top
    sums = np.sum(np.exp(shifted), axis=-1, keepdims=True)
    return shifted - np.array([math.log(s) for s in sums.ravel()]).reshape(sums.shape)


def apply_penalties(logprobs: np.ndarray, generated: Sequence[int], frequency: float, presence: float) -> np.ndarray:
    """One row: logits - frequency * count(token) - presence * [token generated] (OpenAI's penalties)."""
    if not len(generated) or (frequency == 0 and presence == 0):
        return logprobs
    ids, counts = np.unique(np.asarray(generated, dtype=np.int64), return_counts=True)
    out = logprobs.copy()
    out[ids] -= frequency * counts + presence
    return out


def apply_repetition_penalty(scores: np.ndarray, seen: Sequence[int], penalty: float) -> np.ndarray:
    """One row: Hugging Face's repetition penalty on the tokens in `seen` (prompt and output).

    A positive score is divided by `penalty`, a negative one multiplied, so penalty > 1 always
    makes a seen token less likely.
    """
    if penalty == 1.0 or not len(seen):
        return scores
    ids = np.unique(np.asarray(seen, dtype=np.int64))
    out = scores.copy()
    values = out[ids]
    out[ids] = np.where(values < 0, values * penalty, values / penalty)
    return out


def top_k_filter(logprobs: np.ndarray, k: int) -> np.ndarray:
    """Keep the k most likely tokens of each row (ties at the boundary kept), others -inf."""
    if k <= 0 or k >= logprobs.shape[-1]:
        return logprobs
    threshold = np.partition(logprobs, -k, axis=-1)[..., -k, None]
    return np.where(logprobs >= threshold, logprobs, -np.inf)


def _keep_first(scores: np.ndarray, order: np.ndarray, probs: np.ndarray, mass: float) -> np.ndarray:
    """Keep, in each row, the tokens of `order` up to the first whose cumulative probability reaches `mass`."""
    cumulative = np.cumsum(np.take_along_axis(probs, order, axis=-1), axis=-1)
    keep_n = np.sum(cumulative < mass - 1e-12, axis=-1, keepdims=True) + 1
    keep = np.empty(scores.shape, dtype=bool)
    np.put_along_axis(keep, order, np.arange(scores.shape[-1]) < keep_n, axis=-1)
    return np.where(keep, scores, -np.inf)


def top_p_filter(logprobs: np.ndarray, p: float) -> np.ndarray:
    """Nucleus: per row, the smallest set of most likely tokens whose probability reaches p."""
    if p >= 1.0:
        return logprobs
    probs = np.exp(log_softmax(logprobs))
    return _keep_first(logprobs, np.argsort(-probs, axis=-1, kind="stable"), probs, p)


def typical_filter(logprobs: np.ndarray, p: float) -> np.ndarray:
    """Locally typical sampling (Meister et al. 2022): per row, the tokens whose -log p is closest
    to the entropy, up to mass p."""
    if p >= 1.0:
        return logprobs
    logp = log_softmax(logprobs)
    probs = np.exp(logp)
    finite = np.isfinite(logp)
    entropy = -np.sum(np.where(finite, probs * np.where(finite, logp, 0.0), 0.0), axis=-1, keepdims=True)
    distance = np.where(finite, np.abs(-logp - entropy), np.inf)
    return _keep_first(logprobs, np.argsort(distance, axis=-1, kind="stable"), probs, p)


def penalised(scores: np.ndarray, seen: Sequence[Sequence[int]], generated: Sequence[Sequence[int]],
              banned: Sequence[int], repetition: float, frequency: float, presence: float) -> np.ndarray:
    """Rows of `scores` (float64, B x V) with banned tokens at -inf, then the repetition penalty on
    each row's `seen` tokens (prompt and output), then the frequency/presence penalties on its
    `generated` tokens. Time: O(B * V) plus the tokens seen."""
    out = scores
    if len(banned):
        out = out.copy()
        out[:, np.asarray(banned, dtype=np.int64)] = -np.inf
    if repetition == 1.0 and frequency == 0.0 and presence == 0.0:
        return out
    out = out.copy() if out is scores else out
    for row in range(out.shape[0]):
        values = apply_repetition_penalty(out[row], seen[row], repetition)
        out[row] = apply_penalties(values, generated[row], frequency, presence)
    return out
