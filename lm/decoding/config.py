"""`DecodingConfig`: how `generate` and `beam_search` pick tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Strategy = Literal["greedy", "beam", "sample", "top-k", "top-p", "typical"]
STRATEGIES: tuple[str, ...] = ("greedy", "beam", "sample", "top-k", "top-p", "typical")


@dataclass
class DecodingConfig:
    """How to pick tokens.

    Scores are the model's natural-log probabilities. They are changed in this order: banned tokens
    get -inf; `repetition_penalty` (Hugging Face's: a score of a token already in the prompt or the
    output is divided by it when positive, multiplied when negative; log-probabilities are <= 0,
    so it multiplies them); `frequency_penalty` and `presence_penalty` (OpenAI's: subtract
    penalty * times generated, and penalty once if generated at all; the prompt does not count);
    then, when sampling, `temperature`, and the top-k / top-p / typical cuts of the strategy
    (`sample` applies top-k and top-p when set).
    """

    strategy: Strategy = "greedy"
    max_tokens: int = 50
    stop_tokens: Sequence[int] = ()
    temperature: float = 1.0  # 0: greedy
    top_k: int = 0  # 0: no top-k cut
    top_p: float = 1.0
    typical_p: float = 1.0
    repetition_penalty: float = 1.0  # 1: none; > 1 discourages repeats
    frequency_penalty: float = 0.0  # minus penalty * (times the token was generated)
    presence_penalty: float = 0.0  # minus penalty if the token was generated at all
    beam_size: int = 4
    length_penalty: float = 1.0  # beam score = logprob / length ** length_penalty (0: raw logprob)
    banned_tokens: Sequence[int] = field(default_factory=tuple)
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.max_tokens < 0:
            raise ValueError("max_tokens must be >= 0")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0 < self.top_p <= 1 or not 0 < self.typical_p <= 1:
            raise ValueError("top_p and typical_p must be in (0, 1]")
        if self.top_k < 0:
            raise ValueError("top_k must be >= 0")
        if self.repetition_penalty <= 0:
            raise ValueError("repetition_penalty must be > 0 (1 means no penalty)")
        if self.beam_size < 1:
            raise ValueError("beam_size must be >= 1")

    def check_token_ids(self, vocab_size: int) -> None:
        """A ValueError naming the option when a stop or banned token is not an id of the model."""
        for name in ("stop_tokens", "banned_tokens"):
            for token in getattr(self, name):
                if not 0 <= int(token) < vocab_size:
                    raise ValueError(f"{name}: {token} is not a token id of this model (vocabulary size {vocab_size})")
