"""The whole model against Hugging Face's LlamaForCausalLM on the same weights (llm.c's test_gpt2 idea).

Tolerances (float32 on both sides, different summation orders): logits and loss 1e-4 absolute,
each parameter gradient within 1e-4 absolute + 1e-3 relative of PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from corpuskit.lm.transformer.hf import from_hf_tensors, hf_config, to_hf_tensors  # noqa: E402
from corpuskit.lm.transformer.model import TransformerConfig, TransformerLM  # noqa: E402


def torch_twin(model: TransformerLM):  # noqa: ANN201
    cfg = transformers.LlamaConfig(**{k: v for k, v in hf_config(model.config).items() if k not in ("architectures", "model_type", "torch_dtype")})
    cfg._attn_implementation = "eager"
    twin = transformers.LlamaForCausalLM(cfg).float().eval()
    state = {k: torch.from_numpy(v.copy()) for k, v in to_hf_tensors(model).items()}
    missing, unexpected = twin.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}
    if model.config.tie_embeddings:
        twin.tie_weights()
    return twin


@pytest.mark.parametrize("tie,kv", [(True, 2), (False, 1)], ids=["tied-gqa", "untied-mqa"])
def test_logits_loss_and_every_gradient_match_llama(tie: bool, kv: int) -> None:
    cfg = TransformerConfig(vocab_size=97, n_layer=2, n_embd=64, n_head=4, n_kv_head=kv, block_size=32, ffn_hidden=96, rope_theta=500.0, norm_eps=1e-6, tie_embeddings=tie)
    model = TransformerLM(cfg, seed=3)
    rng = np.random.default_rng(0)
    model.params.data[:] += rng.normal(scale=0.05, size=model.params.size).astype(np.float32)
    ids = rng.integers(0, 97, size=(3, 17))
    x, y = ids[:, :-1], ids[:, 1:]
    twin = torch_twin(model)
    out = twin(input_ids=torch.from_numpy(x), labels=None)
    t_logits = out.logits
    t_loss = torch.nn.functional.cross_entropy(t_logits.reshape(-1, 97), torch.from_numpy(y).reshape(-1))
    t_loss.backward()
    np.testing.assert_allclose(model.logits(x), t_logits.detach().numpy(), atol=1e-4)
    model.params.grad[:] = 0
    loss = model.forward_backward(x, y)
    assert loss == pytest.approx(t_loss.item(), abs=1e-4)
    t_grads = {name: p.grad.numpy() for name, p in twin.named_parameters()}
    if tie:
        t_grads.pop("lm_head.weight", None)
    ours = from_hf_tensors(cfg, {k: np.asarray(v) for k, v in t_grads.items()} | ({} if tie else {}))
    for name, want in ours.items():
        np.testing.assert_allclose(model.params.g[name], want, atol=1e-4, rtol=1e-3, err_msg=name)
    assert set(ours) == set(model.params.g)
