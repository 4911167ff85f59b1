"""Export to and import from Hugging Face LlamaForCausalLM folders, checked with transformers itself."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from corpuskit.lm.decoding import DecodingConfig, generate  # noqa: E402
from corpuskit.lm.transformer import TransformerConfig, TransformerLM  # noqa: E402
from corpuskit.lm.transformer.checkpoint import write_json  # noqa: E402
from corpuskit.lm.transformer.hf import export_hf  # noqa: E402


def fake_run(tmp_path, corpus_dir, **options):  # noqa: ANN001, ANN003, ANN201
    """A run folder as training leaves it: model files, run.json, tokenizer.json."""
    tok = json.loads((corpus_dir / "tok.json").read_text())
    vocab = len(tok["model"]["vocab"])
    cfg = TransformerConfig(**{**dict(vocab_size=vocab, n_layer=2, n_embd=32, n_head=4, n_kv_head=2, block_size=64, ffn_hidden=64), **options})
    model = TransformerLM(cfg, seed=2)
    model.params.data[:] += np.random.default_rng(0).normal(scale=0.2, size=model.params.size).astype(np.float32)
    run = tmp_path / "run"
    model.save(run)
    eos = tok["added_tokens"][0]["id"]
    write_json(run / "run.json", {"eos_id": eos, "eos_token": "<|endoftext|>"})
    (run / "tokenizer.json").write_text((corpus_dir / "tok.json").read_text())
    return model, run


@pytest.mark.parametrize("tie", [True, False])
def test_export_loads_in_transformers_with_same_logits_and_greedy(tmp_path, corpus_dir, tie: bool) -> None:  # noqa: ANN001
    model, run = fake_run(tmp_path, corpus_dir, tie_embeddings=tie, rope_theta=2000.0)
    hf_dir = export_hf(run, tmp_path / "hf")
    assert {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json"} <= {p.name for p in hf_dir.iterdir()}
    twin = transformers.AutoModelForCausalLM.from_pretrained(hf_dir).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(hf_dir)
    ids = tokenizer("w1 w2 w3 w4.")["input_ids"]
    from corpuskit.lm.transformer.data import load_tokenizer

    assert ids == load_tokenizer(run / "tokenizer.json").encode("w1 w2 w3 w4.", add_special_tokens=False)
    with torch.no_grad():
        theirs = twin(torch.tensor([ids])).logits.numpy()
    np.testing.assert_allclose(model.logits(np.array([ids])), theirs, atol=1e-4)
    with torch.no_grad():
        hf_out = twin.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False, eos_token_id=None, pad_token_id=0)
    ours = generate(model, [ids], DecodingConfig(strategy="greedy", max_tokens=12))[0]
    assert ours == hf_out[0, len(ids):].tolist()


def test_export_refuses_what_llama_cannot_express(tmp_path, corpus_dir) -> None:  # noqa: ANN001
    _, run = fake_run(tmp_path, corpus_dir, norm="layer")
    with pytest.raises(ValueError, match="norm='layer'"):
        export_hf(run, tmp_path / "hf")


@pytest.mark.parametrize("tie,kv,theta,eps", [(False, 2, 500000.0, 1e-6), (True, 1, 10000.0, 1e-5)])
def test_from_pretrained_reads_a_transformers_checkpoint(tmp_path, tie: bool, kv: int, theta: float, eps: float) -> None:  # noqa: ANN001
    cfg = transformers.LlamaConfig(vocab_size=71, hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=6,
                                   num_key_value_heads=kv, rope_theta=theta, rms_norm_eps=eps, tie_word_embeddings=tie, max_position_embeddings=64)
    torch.manual_seed(0)
    twin = transformers.LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    twin.save_pretrained(tmp_path / "hf")
    model = TransformerLM.from_pretrained(tmp_path / "hf")
    assert (model.config.n_kv_head, model.config.tie_embeddings, model.config.rope_theta, model.config.norm_eps) == (kv, tie, theta, eps)
    ids = np.random.default_rng(0).integers(0, 71, size=(2, 19))
    with torch.no_grad():
        theirs = twin(torch.from_numpy(ids)).logits.numpy()
    np.testing.assert_allclose(model.logits(ids), theirs, atol=1e-4)


def test_from_pretrained_names_unsupported_keys(tmp_path) -> None:  # noqa: ANN001
    cfg = transformers.LlamaConfig(vocab_size=11, hidden_size=8, intermediate_size=8, num_hidden_layers=1, num_attention_heads=2)
    transformers.LlamaForCausalLM(cfg).save_pretrained(tmp_path / "hf")
    path = tmp_path / "hf" / "config.json"
    obj = json.loads(path.read_text())
    obj["sliding_window"] = 4
    path.write_text(json.dumps(obj))
    with pytest.raises(ValueError, match="sliding_window"):
        TransformerLM.from_pretrained(tmp_path / "hf")
    with pytest.raises(FileNotFoundError, match="local folder"):
        TransformerLM.from_pretrained(tmp_path / "no-such-model")
