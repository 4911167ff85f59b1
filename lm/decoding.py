"""Model-agnostic decoding: greedy, beam search, and sampling (temperature, top-k, top-p, typical).

A model is any function `next_logprobs(tokens: Sequence[int]) -> np.ndarray` giving natural-log
probabilities of the next token over the vocabulary (an n-gram model, or a transformer later).
Sampling is reproducible from `seed`. Memory: O(vocabulary * beam size).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

NextLogprobs = Callable[[Sequence[int]], np.ndarray]
Strategy = Literal["greedy", "beam", "sample", "top-k", "top-p", "typical"]


@dataclass
class DecodingConfig:
    """How to pick tokens. Penalties follow OpenAI's definition (subtract from the logit)."""

    strategy: Strategy = "greedy"
    max_tokens: int = 50
    stop_tokens: Sequence[int] = ()
    temperature: float = 1.0
    top_k: int = 0  # 0: no top-k cut
    top_p: float = 1.0
    typical_p: float = 1.0
    frequency_penalty: float = 0.0  # minus penalty * (times the token was generated)
    presence_penalty: float = 0.0  # minus penalty if the token was generated at all
    beam_size: int = 4
    length_penalty: float = 1.0  # beam score = logprob / length ** length_penalty
    banned_tokens: Sequence[int] = field(default_factory=tuple)
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.max_tokens < 0:
            raise ValueError("max_tokens must be >= 0")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0 < self.top_p <= 1 or not 0 < self.typical_p <= 1:
            raise ValueError("top_p and typical_p must be in (0, 1]")
        if self.beam_size < 1:
            raise ValueError("beam_size must be >= 1")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Normalised log-probabilities (float64); -inf stays -inf."""
    logits = np.asarray(logits, dtype=np.float64)
    top = np.max(logits)
    if not np.isfinite(top):
        raise ValueError("every token has probability 0")
    return logits - top - math.log(np.sum(np.exp(logits - top)))


def apply_penalties(logprobs: np.ndarray, generated: Sequence[int], frequency: float, presence: float) -> np.ndarray:
    """logits - frequency * count(token) - presence * [token generated]."""
    if not generated or (frequency == 0 and presence == 0):
        return logprobs
    ids, counts = np.unique(np.asarray(generated, dtype=np.int64), return_counts=True)
    out = logprobs.copy()
    out[ids] -= frequency * counts + presence
    return out


def top_k_filter(logprobs: np.ndarray, k: int) -> np.ndarray:
    """Keep the k most likely tokens (ties at the boundary kept), others -inf."""
    if k <= 0 or k >= logprobs.size:
        return logprobs
    threshold = np.partition(logprobs, -k)[-k]
    return np.where(logprobs >= threshold, logprobs, -np.inf)


def top_p_filter(logprobs: np.ndarray, p: float) -> np.ndarray:
    """Nucleus: the smallest set of most likely tokens whose probability reaches p."""
    if p >= 1.0:
        return logprobs
    probs = np.exp(log_softmax(logprobs))
    order = np.argsort(-probs, kind="stable")
    cumulative = np.cumsum(probs[order])
    keep_n = int(np.searchsorted(cumulative, p - 1e-12) + 1)
    out = np.full_like(logprobs, -np.inf)
    out[order[:keep_n]] = logprobs[order[:keep_n]]
    return out


def typical_filter(logprobs: np.ndarray, p: float) -> np.ndarray:
    """Locally typical sampling (Meister et al. 2022): tokens whose -log p is closest to the entropy, up to mass p."""
    if p >= 1.0:
        return logprobs
    logp = log_softmax(logprobs)
    probs = np.exp(logp)
    finite = np.isfinite(logp)
    entropy = -np.sum(probs[finite] * logp[finite])
    distance = np.where(finite, np.abs(-logp - entropy), np.inf)
    order = np.argsort(distance, kind="stable")
    cumulative = np.cumsum(probs[order])
    keep_n = int(np.searchsorted(cumulative, p - 1e-12) + 1)
    out = np.full_like(logprobs, -np.inf)
    out[order[:keep_n]] = logprobs[order[:keep_n]]
    return out


def _prepare(logprobs: np.ndarray, generated: Sequence[int], cfg: DecodingConfig) -> np.ndarray:
    out = np.asarray(logprobs, dtype=np.float64)
    if cfg.banned_tokens:
        out = out.copy()
        out[list(cfg.banned_tokens)] = -np.inf
    return apply_penalties(out, generated, cfg.frequency_penalty, cfg.presence_penalty)


def sample_next(logprobs: np.ndarray, cfg: DecodingConfig, rng: np.random.Generator, generated: Sequence[int] = ()) -> int:
    """One token: penalties, temperature, then top-k / top-p / typical cuts, then a draw."""
    scores = _prepare(logprobs, generated, cfg)
    if cfg.strategy == "greedy" or cfg.temperature == 0:
        return int(np.argmax(scores))
    scores = scores / cfg.temperature
    if cfg.strategy in ("top-k", "sample") and cfg.top_k:
        scores = top_k_filter(scores, cfg.top_k)
    if cfg.strategy in ("top-p", "sample") and cfg.top_p < 1:
        scores = top_p_filter(scores, cfg.top_p)
    if cfg.strategy == "typical":
        scores = typical_filter(scores, cfg.typical_p)
    probs = np.exp(log_softmax(scores))
    return int(rng.choice(probs.size, p=probs / probs.sum()))


def generate(next_logprobs: NextLogprobs, prompt: Sequence[int], cfg: DecodingConfig) -> list[int]:
    """Tokens generated after `prompt` (stop token included when reached), by `cfg.strategy`."""
    if cfg.strategy == "beam":
        return beam_search(next_logprobs, prompt, cfg)[0][0]
    rng = np.random.default_rng(cfg.seed)
    tokens = list(prompt)
    out: list[int] = []
    stops = set(cfg.stop_tokens)
    for _ in range(cfg.max_tokens):
        token = sample_next(next_logprobs(tokens), cfg, rng, out)
        out.append(token)
        tokens.append(token)
        if token in stops:
            break
    return out


def beam_search(next_logprobs: NextLogprobs, prompt: Sequence[int], cfg: DecodingConfig) -> list[tuple[list[int], float]]:
    """The `beam_size` best continuations with their normalised scores, best first.

    A hypothesis ending in a stop token is finished; the search ends when the best unfinished
    hypothesis cannot beat the worst kept finished one, or at `max_tokens`. Score =
    total log-probability / length ** length_penalty (0: raw log-probability).
    """
    stops = set(cfg.stop_tokens)

    def normalised(logp: float, length: int) -> float:
        return logp / (max(length, 1) ** cfg.length_penalty) if cfg.length_penalty else logp

    beams: list[tuple[list[int], float]] = [([], 0.0)]
    finished: list[tuple[list[int], float]] = []
    for _ in range(cfg.max_tokens):
        candidates: list[tuple[float, list[int], float]] = []
        for tokens, logp in beams:
            scores = log_softmax(_prepare(next_logprobs(list(prompt) + tokens), tokens, cfg))
            k = min(cfg.beam_size, int(np.isfinite(scores).sum()))
            for token in np.argpartition(-scores, k - 1)[:k]:
                new_logp = logp + float(scores[token])
                candidates.append((normalised(new_logp, len(tokens) + 1), tokens + [int(token)], new_logp))
        candidates.sort(key=lambda c: -c[0])
        beams = []
        for norm, tokens, logp in candidates:
            if tokens[-1] in stops:
                finished.append((tokens, logp))
            else:
                beams.append((tokens, logp))
            if len(beams) == cfg.beam_size:
                break
        finished.sort(key=lambda f: -normalised(f[1], len(f[0])))
        finished = finished[: cfg.beam_size]
        if not beams:
            break
        if len(finished) == cfg.beam_size and cfg.length_penalty == 0:
            if normalised(beams[0][1], len(beams[0][0])) <= normalised(finished[-1][1], len(finished[-1][0])):
                break
    pool = finished + beams if len(finished) < cfg.beam_size else finished
    ranked = sorted(((t, normalised(lp, len(t))) for t, lp in pool), key=lambda r: -r[1])
    return ranked[: cfg.beam_size]
