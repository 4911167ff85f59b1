"""Model-agnostic decoding on the batched, stateful `LanguageModel` protocol.

    from corpuskit.lm.decoding import DecodingConfig, generate
    generate(model, [[5, 17], [3]], DecodingConfig(strategy="top-p", top_p=0.9, seed=1))

Strategies: greedy, beam search, sampling with temperature, top-k, top-p and typical cuts;
repetition, frequency and presence penalties; stop and banned tokens. Every step is one batched
model call for all prompts (and beams). `PrefixModel` wraps a plain `prefix -> logprobs` function.
"""

from corpuskit.lm.decoding.beam import beam_search
from corpuskit.lm.decoding.config import DecodingConfig, Strategy
from corpuskit.lm.decoding.generate import generate
from corpuskit.lm.decoding.processors import (apply_penalties, apply_repetition_penalty, log_softmax, top_k_filter,
                                              top_p_filter, typical_filter)
from corpuskit.lm.decoding.protocol import LanguageModel, PrefixModel

__all__ = ["DecodingConfig", "LanguageModel", "PrefixModel", "Strategy", "apply_penalties", "apply_repetition_penalty",
           "beam_search", "generate", "log_softmax", "top_k_filter", "top_p_filter", "typical_filter"]
