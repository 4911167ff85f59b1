"""Generate text from an n-gram model with any strategy of `corpuskit.lm.decoding`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from corpuskit.lm.decoding import DecodingConfig, generate
from corpuskit.lm.ngram.model import NGramModel
from corpuskit.lm.ngram.vocab import BOS_ID, EOS_ID, UNK_ID


def generate_texts(model: NGramModel, prompts: Sequence[str], config: DecodingConfig | None = None) -> list[str]:
    """Continue each prompt (after `<s>`) until `</s>` or `max_tokens`, all in one batch.

    `<unk>` and `<s>` are never produced; the continuation is returned without the prompt.
    """
    cfg = replace(config or DecodingConfig(), stop_tokens=(EOS_ID,), banned_tokens=(UNK_ID, BOS_ID))
    outputs = generate(model, [model.sentence_ids(p) for p in prompts], cfg)
    return [" ".join(model.words[t] for t in tokens if t != EOS_ID) for tokens in outputs]


def generate_text(model: NGramModel, prompt: str = "", config: DecodingConfig | None = None) -> str:
    """Continue one prompt; see `generate_texts`."""
    return generate_texts(model, [prompt], config)[0]
