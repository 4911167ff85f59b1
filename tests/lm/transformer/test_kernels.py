"""Each numba kernel against its NumPy reference: random inputs, odd sizes, edge cases (float32)."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.lm.transformer import reference as ref
from corpuskit.lm.transformer.kernels import TILE
from corpuskit.lm.transformer.ops import NumbaOps

OPS = NumbaOps()
RNG = np.random.default_rng(0)


def f32(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.normal(size=shape) * scale).astype(np.float32)


@pytest.mark.parametrize("n,c", [(1, 1), (7, 33), (100, 128)])
def test_rms_norm(n: int, c: int) -> None:
    x, w, dy = f32(n, c, scale=3), f32(c), f32(n, c)
    y, rstd = OPS.rms_norm_forward(x, w, 1e-5)
    y_ref, rstd_ref = ref.rms_norm_forward(x.astype(np.float64), w.astype(np.float64), 1e-5)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    dx, dw = OPS.rms_norm_backward(x, w, rstd, dy)
    dx_ref, dw_ref = ref.rms_norm_backward(x.astype(np.float64), w.astype(np.float64), rstd_ref, dy.astype(np.float64))
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-4, atol=1e-4)


def test_rope_forward_and_inverse() -> None:
    x = f32(3, 5, 2, 6)
    pos = RNG.integers(0, 40, size=(3, 5))
    cos, sin = ref.rope_tables(40, 6, 500.0)
    c32, s32 = cos.astype(np.float32), sin.astype(np.float32)
    np.testing.assert_allclose(OPS.rope(x, pos, c32, s32), ref.rope(x.astype(np.float64), pos, cos, sin), atol=1e-5)
    np.testing.assert_allclose(OPS.rope(x, pos, c32, s32, inverse=True), ref.rope(x.astype(np.float64), pos, cos, sin, True), atol=1e-5)


ATTENTION_CASES = [
    # (B, Tq, Tk, Hq, Hkv, D, mask)
    (1, 1, 1, 1, 1, 4, False),
    (2, 7, 7, 4, 2, 8, False),
    (1, TILE + 3, TILE + 3, 2, 1, 16, False),  # boundary tile
    (2, 2 * TILE + 1, 2 * TILE + 1, 3, 3, 32, True),
    (2, 1, 9, 4, 1, 8, True),  # one query against a cache (decoding)
    (2, 5, 12, 2, 2, 8, True),  # Tq < Tk, causal aligned bottom-right
]


@pytest.mark.parametrize("case", ATTENTION_CASES)
def test_attention_forward_backward(case: tuple) -> None:
    b, tq, tk, hq, hkv, d, masked = case
    q, k, v, do = f32(b, tq, hq, d), f32(b, tk, hkv, d), f32(b, tk, hkv, d), f32(b, tq, hq, d)
    mask = None
    if masked:
        mask = np.ones((b, tk), dtype=bool)
        mask[-1, : tk - tq + 1] = False  # last row: the first query (and the padding keys) fully masked
    o, lse = OPS.attention_forward(q, k, v, True, mask)
    d64 = [a.astype(np.float64) for a in (q, k, v, do)]
    o_ref, lse_ref = ref.attention_forward(d64[0], d64[1], d64[2], True, None, mask)
    np.testing.assert_allclose(o, o_ref, atol=2e-5)
    np.testing.assert_allclose(lse, lse_ref, atol=2e-5)
    if masked:
        assert np.all(o[-1, 0] == 0) and np.all(np.isneginf(lse[-1, :, 0]))
    grads = OPS.attention_backward(q, k, v, o, lse, do, True, mask)
    grads_ref = ref.attention_backward(d64[0], d64[1], d64[2], o_ref, lse_ref, d64[3], True, None, mask)
    for got, want, name in zip(grads, grads_ref, ("dq", "dk", "dv")):
        np.testing.assert_allclose(got, want, atol=5e-5, rtol=1e-4, err_msg=name)


def test_attention_non_causal() -> None:
    q, k, v = f32(1, 3, 2, 4), f32(1, 5, 1, 4), f32(1, 5, 1, 4)
    o, lse = OPS.attention_forward(q, k, v, False, None)
    o_ref, lse_ref = ref.attention_forward(*(a.astype(np.float64) for a in (q, k, v)), False)
    np.testing.assert_allclose(o, o_ref, atol=1e-5)
    np.testing.assert_allclose(lse, lse_ref, atol=1e-5)


@pytest.mark.parametrize("n,f", [(1, 1), (17, 3), (100, 257)])
def test_swiglu(n: int, f: int) -> None:
    gu, ds = f32(n, 2 * f, scale=4), f32(n, f)
    gu[0, 0] = -100.0  # exp overflow side: silu -> -0, its gradient -> 0
    np.testing.assert_allclose(OPS.swiglu_forward(gu), ref.swiglu_forward(gu.astype(np.float64)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(OPS.swiglu_backward(gu, ds), ref.swiglu_backward(gu.astype(np.float64), ds.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n,v", [(1, 2), (9, 31), (64, 1000)])
def test_cross_entropy(n: int, v: int) -> None:
    logits = f32(n, v, scale=5)
    targets = RNG.integers(0, v, size=n)
    if n > 2:
        targets[1] = -100
    count = int(np.sum(targets != -100))
    loss_ref, grad_ref = ref.cross_entropy(logits.astype(np.float64), targets)
    loss, grad = OPS.cross_entropy(logits.copy(), targets, count)
    assert loss / count == pytest.approx(loss_ref, rel=1e-5)
    np.testing.assert_allclose(grad, grad_ref, atol=1e-6)
    # all targets ignored: loss 0, zero gradient
    loss, grad = OPS.cross_entropy(logits.copy(), np.full(n, -100), 0)
    assert loss == 0.0 and not grad.any()


def test_log_softmax_and_sum_squares() -> None:
    x = f32(3, 50, scale=10)
    want = x.astype(np.float64) - np.log(np.exp(x.astype(np.float64)).sum(1, keepdims=True))
    np.testing.assert_allclose(OPS.log_softmax(x), want, atol=1e-5)
    y = f32(12345)
    assert OPS.sum_squares(y) == pytest.approx(float(np.sum(y.astype(np.float64) ** 2)), rel=1e-9)


def test_embedding_backward_repeated_ids() -> None:
    ids = np.array([3, 1, 3, 3, 0])
    dx = f32(5, 4)
    got = np.zeros((6, 4), np.float32)
    OPS.embedding_backward(ids, dx, got)
    want = np.zeros((6, 4))
    np.add.at(want, ids, dx)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_adamw_matches_reference() -> None:
    p, m, v = f32(1003), f32(1003) * 0.1, np.abs(f32(1003)) * 0.01
    p2, m2, v2 = (a.astype(np.float64) for a in (p, m, v))
    for step in (1, 2, 3):
        g = f32(1003)
        OPS.adamw_step(p, g, m, v, 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
        ref.adamw_step(p2, g.astype(np.float64), m2, v2, 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
    np.testing.assert_allclose(p, p2, atol=1e-5)
    np.testing.assert_allclose(v, v2, rtol=1e-4, atol=1e-9)
