"""The `LanguageModel` protocol that decoding runs on, and an adapter for prefix functions.

A model is batched and stateful: `start` reads B prompts and returns the next-token
log-probabilities of each plus an opaque state (an n-gram context, a transformer's KV cache);
`step` feeds one token per row; `reorder` picks and repeats rows (beam search, or dropping
finished rows). Decoding never looks inside the state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class LanguageModel(Protocol):
    """A batched, stateful next-token model; log-probabilities are natural logs over `vocab_size` ids."""

    vocab_size: int

    def start(self, prompts: Sequence[Sequence[int]]) -> tuple[np.ndarray, Any]:
        """Read B prompts: logprobs (B, V) float32/64 of the token after each, and the state."""
        ...

    def step(self, state: Any, tokens: np.ndarray) -> tuple[np.ndarray, Any]:
        """Append tokens (B,) int64, one per row: the next logprobs (B, V) and the new state."""
        ...

    def reorder(self, state: Any, indices: np.ndarray) -> Any:
        """A state whose row i is row `indices[i]` of `state` (rows may repeat or be dropped)."""
        ...


NextLogprobs = Callable[[Sequence[int]], np.ndarray]


class PrefixModel:
    """A `LanguageModel` over a function `prefix -> logprobs (V,)` (the interface before this one).

    The state is the list of prefixes; every step calls the function once per row with the whole
    prefix, so it suits hand-built distributions and toy models, not real ones.
    Memory: O(B * prefix length).
    """

    def __init__(self, next_logprobs: NextLogprobs, vocab_size: int) -> None:
        self.next_logprobs = next_logprobs
        self.vocab_size = int(vocab_size)

    def _batch(self, prefixes: list[list[int]]) -> np.ndarray:
        out = np.empty((len(prefixes), self.vocab_size), dtype=np.float64)
        for i, prefix in enumerate(prefixes):
            row = np.asarray(self.next_logprobs(prefix))
            if row.shape != (self.vocab_size,):
                raise ValueError(f"next_logprobs returned shape {row.shape} for prefix {prefix}, expected ({self.vocab_size},)")
            out[i] = row
        return out

    def start(self, prompts: Sequence[Sequence[int]]) -> tuple[np.ndarray, list[list[int]]]:
        prefixes = [[int(t) for t in p] for p in prompts]
        return self._batch(prefixes), prefixes

    def step(self, state: list[list[int]], tokens: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
        if len(tokens) != len(state):
            raise ValueError(f"step got {len(tokens)} tokens for {len(state)} rows")
        prefixes = [p + [int(t)] for p, t in zip(state, tokens)]
        return self._batch(prefixes), prefixes

    def reorder(self, state: list[list[int]], indices: np.ndarray) -> list[list[int]]:
        return [list(state[int(i)]) for i in indices]


def checked_logprobs(logprobs: np.ndarray, rows: int, vocab_size: int, where: str) -> np.ndarray:
    """The model's output as float64 (rows, V), or a ValueError naming the call and the shape."""
    out = np.asarray(logprobs, dtype=np.float64)
    if out.shape != (rows, vocab_size):
        raise ValueError(f"LanguageModel.{where} returned logprobs of shape {out.shape}, expected ({rows}, {vocab_size})")
    return out
