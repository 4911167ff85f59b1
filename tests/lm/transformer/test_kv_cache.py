"""KV-cache decoding (start/step/reorder) gives the logits of a full forward pass; decoding runs on it."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.lm.decoding import DecodingConfig, LanguageModel, generate
from corpuskit.lm.transformer.model import TransformerConfig, TransformerLM


def full_logprobs(model: TransformerLM, ids: list[int]) -> np.ndarray:
    logits = model.logits(np.array([ids]))[0, -1].astype(np.float64)
    return logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())


def make(**options: object) -> TransformerLM:
    cfg = TransformerConfig(**{**dict(vocab_size=61, n_layer=2, n_embd=32, n_head=4, n_kv_head=2, block_size=128, ffn_hidden=48), **options})
    model = TransformerLM(cfg, seed=5)
    model.params.data[:] += np.random.default_rng(1).normal(scale=0.05, size=model.params.size).astype(np.float32)
    return model


@pytest.mark.parametrize("options", [{}, {"n_kv_head": 1, "positions": "learned"}, {"norm": "layer", "mlp": "gelu", "tie_embeddings": False}],
                         ids=["llama", "mqa-learned", "layernorm-gelu"])
def test_incremental_decoding_matches_full_forward(options: dict) -> None:
    model = make(**options)
    assert isinstance(model, LanguageModel)
    rng = np.random.default_rng(0)
    prompts = [list(rng.integers(0, 61, size=n)) for n in (5, 1, 9)]  # different lengths: left padding
    logprobs, state = model.start(prompts)
    seqs = [list(p) for p in prompts]
    for _ in range(70):  # past the cache's first capacity (longest prompt + 64): it grows
        for r, seq in enumerate(seqs):
            np.testing.assert_allclose(logprobs[r], full_logprobs(model, seq), atol=1e-4)
        tokens = rng.integers(0, 61, size=3)
        for seq, t in zip(seqs, tokens):
            seq.append(int(t))
        logprobs, state = model.step(state, tokens)
        if len(seqs[0]) > 20:
            break
    assert state.length == 9 + (len(seqs[0]) - 5)  # longest prompt + steps taken


def test_cache_grows_past_its_capacity() -> None:
    model = make()
    _, state = model.start([[1, 2]])
    for t in range(70):
        logprobs, state = model.step(state, np.array([t % 61]))
    np.testing.assert_allclose(logprobs[0], full_logprobs(model, [1, 2] + [t % 61 for t in range(70)]), atol=1e-4)


def test_reorder_repeats_and_drops_rows() -> None:
    model = make()
    prompts = [[3, 4, 5], [7], [9, 9]]
    _, state = model.start(prompts)
    state = model.reorder(state, np.array([2, 0, 0]))
    logprobs, state = model.step(state, np.array([1, 2, 3]))
    for r, seq in enumerate([[9, 9, 1], [3, 4, 5, 2], [3, 4, 5, 3]]):
        np.testing.assert_allclose(logprobs[r], full_logprobs(model, seq), atol=1e-4)


def test_greedy_generate_equals_a_plain_argmax_loop() -> None:
    model = make()
    prompts = [[1, 2, 3], [40]]
    got = generate(model, prompts, DecodingConfig(strategy="greedy", max_tokens=8))
    for prompt, out in zip(prompts, got):
        seq = list(prompt)
        for _ in range(8):
            seq.append(int(np.argmax(model.logits(np.array([seq]))[0, -1])))
        assert out == seq[len(prompt):]
    beams = generate(model, prompts, DecodingConfig(strategy="beam", beam_size=3, max_tokens=5))
    assert [len(b) for b in beams] == [5, 5]


def test_start_rejects_empty_prompts() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        make().start([[1], []])
