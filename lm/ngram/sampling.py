"""Generate text from an n-gram model with any strategy of `corpuskit.lm.decoding`."""

from __future__ import annotations

import math

import numpy as np

from corpuskit.lm.decoding import DecodingConfig, PrefixModel, generate
from corpuskit.lm.ngram.model import NGramModel
from corpuskit.lm.ngram.vocab import BOS_ID, EOS_ID, UNK_ID


def generate_text(model: NGramModel, prompt: str = "", config: DecodingConfig | None = None) -> str:
    """Continue `prompt` (after `<s>`) until `</s>` or `max_tokens`; `<unk>` is never produced."""
    cfg = config or DecodingConfig()
    cfg = DecodingConfig(**{**cfg.__dict__, "stop_tokens": (EOS_ID,), "banned_tokens": (UNK_ID, BOS_ID)})
    history = [BOS_ID, *model.sentence_ids(prompt)]

    def next_logprobs(tokens: list[int]) -> np.ndarray:
        return model.next_log10probs(tokens) * math.log(10.0)

    tokens = generate(PrefixModel(next_logprobs, len(model.words)), [history], cfg)[0]
    return " ".join(model.words[t] for t in tokens if t != EOS_ID)
