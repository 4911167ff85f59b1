"""Every layer's hand-written backward against float64 central finite differences (reference layers)."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.lm.transformer import reference as ref
from corpuskit.lm.transformer.model import TransformerConfig, TransformerLM

RNG = np.random.default_rng(0)


def test_rms_norm_backward(gradcheck) -> None:
    x, w, dy = RNG.normal(size=(5, 7)), RNG.normal(size=7), RNG.normal(size=(5, 7))
    loss = lambda: float(np.sum(ref.rms_norm_forward(x, w, 1e-5)[0] * dy))  # noqa: E731
    _, rstd = ref.rms_norm_forward(x, w, 1e-5)
    dx, dw = ref.rms_norm_backward(x, w, rstd, dy)
    gradcheck(loss, x, dx, "rms dx")
    gradcheck(loss, w, dw, "rms dw")


def test_layer_norm_backward(gradcheck) -> None:
    x, w, b, dy = RNG.normal(size=(4, 9)), RNG.normal(size=9), RNG.normal(size=9), RNG.normal(size=(4, 9))
    loss = lambda: float(np.sum(ref.layer_norm_forward(x, w, b, 1e-5)[0] * dy))  # noqa: E731
    _, mean, rstd = ref.layer_norm_forward(x, w, b, 1e-5)
    dx, dw, db = ref.layer_norm_backward(x, w, mean, rstd, dy)
    gradcheck(loss, x, dx, "ln dx")
    gradcheck(loss, w, dw, "ln dw")
    gradcheck(loss, b, db, "ln db")


def test_rope_backward_is_inverse_rotation(gradcheck) -> None:
    x, dy = RNG.normal(size=(2, 5, 3, 8)), RNG.normal(size=(2, 5, 3, 8))
    pos = np.array([[0, 1, 2, 3, 4], [3, 3, 4, 9, 11]])
    cos, sin = ref.rope_tables(16, 8, 10000.0)
    loss = lambda: float(np.sum(ref.rope(x, pos, cos, sin) * dy))  # noqa: E731
    gradcheck(loss, x, ref.rope(dy, pos, cos, sin, inverse=True), "rope dx", samples=20)
    # a rotation keeps norms and inverse undoes it
    y = ref.rope(x, pos, cos, sin)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(ref.rope(y, pos, cos, sin, inverse=True), x, atol=1e-12)


@pytest.mark.parametrize(
    "tq,tk,hq,hkv,masked", [(6, 6, 4, 2, False), (3, 7, 2, 1, False), (5, 5, 2, 2, True), (1, 4, 3, 3, True)]
)
def test_attention_backward(gradcheck, tq: int, tk: int, hq: int, hkv: int, masked: bool) -> None:
    d = 4
    q, k, v = RNG.normal(size=(2, tq, hq, d)), RNG.normal(size=(2, tk, hkv, d)), RNG.normal(size=(2, tk, hkv, d))
    do = RNG.normal(size=(2, tq, hq, d))
    mask = None
    if masked:
        mask = np.ones((2, tk), dtype=bool)
        mask[1, :2] = False  # left padding of row 1
    loss = lambda: float(np.sum(ref.attention_forward(q, k, v, True, None, mask)[0] * do))  # noqa: E731
    o, lse = ref.attention_forward(q, k, v, True, None, mask)
    dq, dk, dv = ref.attention_backward(q, k, v, o, lse, do, True, None, mask)
    gradcheck(loss, q, dq, "dq")
    gradcheck(loss, k, dk, "dk")
    gradcheck(loss, v, dv, "dv")


def test_attention_matches_naive_softmax() -> None:
    q, k, v = RNG.normal(size=(1, 4, 2, 4)), RNG.normal(size=(1, 4, 1, 4)), RNG.normal(size=(1, 4, 1, 4))
    o, lse = ref.attention_forward(q, k, v)
    s = np.einsum("bthd,bshd->bhts", q, np.repeat(k, 2, axis=2)) / 2.0
    s = np.where(np.tril(np.ones((4, 4), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(o, np.einsum("bhts,bshd->bthd", p, np.repeat(v, 2, axis=2)), atol=1e-12)
    # fully masked row: zeros and -inf
    o, lse = ref.attention_forward(q, k, v, True, None, np.array([[False, True, True, True]]))
    assert np.all(o[0, 0] == 0) and np.all(np.isneginf(lse[0, :, 0]))


def test_mlp_activations_and_loss_backward(gradcheck) -> None:
    gu, ds = RNG.normal(size=(3, 10)), RNG.normal(size=(3, 5))
    loss = lambda: float(np.sum(ref.swiglu_forward(gu) * ds))  # noqa: E731
    gradcheck(loss, gu, ref.swiglu_backward(gu, ds), "swiglu dgu", samples=30)
    x = RNG.normal(size=(3, 5)) * 2
    gelu_loss = lambda: float(np.sum(ref.gelu_forward(x) * ds))  # noqa: E731
    gradcheck(gelu_loss, x, ref.gelu_backward(x, ds), "gelu")
    logits, targets = RNG.normal(size=(6, 11)), np.array([0, 3, -100, 10, 5, 5])
    _, dl = ref.cross_entropy(logits, targets)
    gradcheck(lambda: ref.cross_entropy(logits, targets)[0], logits, dl, "cross-entropy", samples=30)
    loss0, dl0 = ref.cross_entropy(logits, np.full(6, -100))
    assert loss0 == 0.0 and not dl0.any()


OPTIONS = [
    dict(),
    dict(norm="layer", mlp="gelu", positions="learned", tie_embeddings=False),
    dict(n_kv_head=1),
]


@pytest.mark.parametrize("options", OPTIONS, ids=["llama", "gpt2-like", "mqa"])
def test_whole_model_backward(gradcheck, options: dict) -> None:
    """Every parameter tensor's gradient of the whole float64 model against finite differences."""
    cfg = TransformerConfig(vocab_size=13, n_layer=2, n_embd=8, n_head=2, block_size=8, ffn_hidden=12, **{"n_kv_head": 2, **options})
    model = TransformerLM(cfg, seed=1, dtype=np.float64, ops="reference")
    model.params.data += RNG.normal(scale=0.1, size=model.params.size)  # norms away from 1, biases away from 0
    ids, targets = RNG.integers(0, 13, size=(2, 6)), RNG.integers(0, 13, size=(2, 6))
    targets[0, 0] = -100
    model.params.grad[:] = 0
    model.forward_backward(ids, targets)
    loss = lambda: model.loss(ids, targets)[0] / model.loss(ids, targets)[1]  # noqa: E731
    for name in model.params.p:
        gradcheck(loss, model.params.p[name], model.params.g[name], name, samples=4)


def test_dropout_is_used_in_training_only() -> None:
    cfg = TransformerConfig(vocab_size=13, n_layer=1, n_embd=8, n_head=2, n_kv_head=1, block_size=8, dropout=0.5)
    model = TransformerLM(cfg, seed=1, dtype=np.float64, ops="reference")
    ids = RNG.integers(0, 13, size=(2, 6))
    a = model.loss(ids, ids)[0]
    model.training = True
    b = model.forward_backward(ids, ids)
    c = model.forward_backward(ids, ids)
    assert b != c and model.loss(ids, ids)[0] == a
