"""`ops` on the emulator against the float64 reference (‖out − ref‖/‖ref‖: fp32 < 1e-5,
bf16 < 1e-2) on fresh random inputs, the reference's gradients against central finite
differences, bitwise-deterministic backward runs and clear errors for bad input.

Every emulated barrier is a rendezvous of 128 OS threads on CI's 2 cores, so the default run is
a covering subset (every value of every axis at least once, the interacting pairs together);
`-m gpu_full` runs the full matrix."""

from __future__ import annotations

import itertools

import ml_dtypes
import numpy as np
import pytest

from corpuskit.gpu import ops, reference
from corpuskit.gpu.reference import relative_error as rel_error

BF16 = ml_dtypes.bfloat16
TOLERANCE = {"float32": 1e-5, "bfloat16": 1e-2}
pytestmark = pytest.mark.usefixtures("emulator")


def _inputs(seed, b, hq, hkv, tq, tk, d, dtype, mask_kind, logit_scale=1.0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    amp = np.sqrt(logit_scale)
    q = (rng.standard_normal((b, hq, tq, d)) * amp).astype(dtype)
    k = (rng.standard_normal((b, hkv, tk, d)) * amp).astype(dtype)
    v = rng.standard_normal((b, hkv, tk, d)).astype(dtype)
    do = rng.standard_normal((b, hq, tq, d)).astype(dtype)
    mask = None
    if mask_kind == "random":
        mask = rng.random((b, tk)) > 0.3
    elif mask_kind == "full_row":  # batch 0 attends to nothing: o = 0, lse = -inf
        mask = rng.random((b, tk)) > 0.3
        mask[0] = False
    return q, k, v, do, mask


def _check_attention(b, hq, hkv, tq, tk, d, causal, mask_kind, dtype, logit_scale=1.0, backward=True):  # type: ignore[no-untyped-def]
    seed = hash((b, hq, hkv, tq, tk, d, causal, mask_kind, str(dtype))) % 2**32
    q, k, v, do, mask = _inputs(seed, b, hq, hkv, tq, tk, d, dtype, mask_kind, logit_scale)
    tol = TOLERANCE[np.dtype(dtype).name]
    o, lse = ops.attention_forward(q, k, v, causal=causal, key_padding_mask=mask, backend="emulate")
    o_ref, lse_ref = ops.attention_forward(q, k, v, causal=causal, key_padding_mask=mask, backend="reference")
    assert o.dtype == q.dtype and lse.dtype == np.float32 and lse.shape == (b, hq, tq)
    assert rel_error(o, o_ref) < tol
    assert rel_error(lse, lse_ref) < 1e-5
    if mask_kind == "full_row":
        assert np.all(np.asarray(o[0], np.float64) == 0) and np.all(np.isneginf(lse[0]))
    if not backward:
        return
    grads = ops.attention_backward(q, k, v, o, lse, do, causal=causal, key_padding_mask=mask, backend="emulate")
    refs = reference.attention_backward(q, k, v, o, lse, do, causal, None, mask)
    # dq and dk vanish where a row attends to one key (p = 1 makes dS = 0): there the error is
    # measured against a tenth of the gradients' natural scale, ‖dv‖ (‖dO‖ routed through P).
    floor = 0.1 * float(np.linalg.norm(np.asarray(refs[2], np.float64)))
    for name, g, r, like in zip(("dq", "dk", "dv"), grads, refs, (q, k, v)):
        assert g.dtype == like.dtype and g.shape == like.shape, name
        rel_error(g, r)  # no NaN, no unwritten element
        g64, r64 = np.asarray(g, np.float64), np.asarray(r, np.float64)
        denominator = max(float(np.linalg.norm(r64)), floor)
        error = np.linalg.norm(g64 - r64) / (denominator or 1.0)  # all zero: absolute
        assert error < (tol if dtype == np.float32 else 2e-2), name


# (B, Hq, Hkv, Tq, Tk, D, causal, mask, dtype): every T in {1, 7, 64, 129, 300}, every D, GQA
# ratios 1/2/4, causal and not, masks (random, a fully masked batch row), fp32 and bf16,
# Tq < Tk (decoding against a cache), each at least once.
COVERING = [
    (1, 1, 1, 1, 1, 32, True, None, np.float32),
    (1, 2, 1, 7, 7, 64, False, "random", np.float32),
    (1, 4, 1, 64, 64, 128, True, None, np.float32),
    (2, 2, 2, 129, 129, 32, True, "random", np.float32),
    (1, 2, 1, 300, 300, 64, True, None, BF16),
    (1, 1, 1, 7, 129, 64, True, "random", np.float32),
    (1, 2, 2, 1, 300, 128, True, None, BF16),
    (2, 4, 2, 64, 64, 32, False, "full_row", np.float32),
    (1, 4, 1, 129, 129, 128, False, "random", BF16),
    (1, 2, 2, 64, 129, 32, False, None, BF16),
]


@pytest.mark.parametrize("case", COVERING, ids=lambda c: "-".join(str(x) for x in c[:8]) + f"-{np.dtype(c[8]).name}")
def test_attention_covering_subset(case: tuple) -> None:
    _check_attention(*case)


def test_attention_large_logits() -> None:
    """Scores scaled ×100: the online softmax's rescaling must stay exact. (At ×100 the
    probabilities are one-hot and dq ≈ 0, so the backward is checked at ×10.)"""
    _check_attention(1, 2, 1, 129, 129, 64, True, None, np.float32, logit_scale=100.0, backward=False)
    _check_attention(1, 2, 1, 129, 129, 64, True, "random", np.float32, logit_scale=10.0)


@pytest.mark.parametrize("causal,dtype", [(True, np.float32), (False, BF16)])
def test_packed_sequences_match_separate_documents(causal: bool, dtype: type) -> None:
    """cu_seqlens: the packed run equals the reference and each document run on its own."""
    cu = np.array([0, 5, 5, 70, 129])  # documents of 5, 0, 65 and 59 tokens
    q, k, v, do, _ = _inputs(21, 1, 4, 2, 129, 129, 64, dtype, None)
    tol = TOLERANCE[np.dtype(dtype).name]
    o, lse = ops.attention_forward(q, k, v, causal=causal, backend="emulate", cu_seqlens=cu)
    o_ref, lse_ref = ops.attention_forward(q, k, v, causal=causal, backend="reference", cu_seqlens=cu)
    assert rel_error(o, o_ref) < tol and rel_error(lse, lse_ref) < 1e-5
    for start, end in zip(cu[:-1], cu[1:]):
        if end > start:
            part = slice(start, end)
            o_doc, _ = ops.attention_forward(q[:, :, part], k[:, :, part], v[:, :, part], causal=causal, backend="reference")
            assert rel_error(o[:, :, part], o_doc) < tol
    grads = ops.attention_backward(q, k, v, o, lse, do, causal=causal, backend="emulate", cu_seqlens=cu)
    refs = ops.attention_backward(q, k, v, o, lse, do, causal=causal, backend="reference", cu_seqlens=cu)
    for g, r in zip(grads, refs):
        assert rel_error(g, r) < (tol if dtype == np.float32 else 2e-2)


def test_bad_cu_seqlens_are_rejected() -> None:
    q = np.zeros((1, 2, 10, 32), np.float32)
    for bad, message in (([0, 4, 9], "from 0 to T=10"), ([0, 6, 4, 10], "non-decreasing"), ([[0, 10]], "1-D")):
        with pytest.raises(ValueError, match=message):
            ops.attention_forward(q, q, q, backend="emulate", cu_seqlens=np.array(bad))
    with pytest.raises(ValueError, match="Tq == Tk"):
        ops.attention_forward(np.zeros((1, 2, 4, 32), np.float32), q, q, backend="emulate", cu_seqlens=np.array([0, 10]))


def test_attention_backward_is_bitwise_deterministic() -> None:
    q, k, v, do, mask = _inputs(5, 1, 4, 2, 129, 129, 32, np.float32, "random")
    o, lse = ops.attention_forward(q, k, v, key_padding_mask=mask, backend="emulate")
    first = ops.attention_backward(q, k, v, o, lse, do, key_padding_mask=mask, backend="emulate")
    second = ops.attention_backward(q, k, v, o, lse, do, key_padding_mask=mask, backend="emulate")
    for a, b in zip(first, second):
        assert a.tobytes() == b.tobytes()


# Every (T, D, GQA, causal) combination; mask kind and dtype cycle through their values.
FULL = [
    (2, hq, hkv, t, t, d, causal, (None, "random", "full_row")[i % 3], (np.float32, BF16)[(i // 3) % 2])
    for i, (t, d, (hq, hkv), causal) in enumerate(
        itertools.product((1, 7, 64, 129, 300), (32, 64, 128), ((2, 2), (2, 1), (4, 1)), (True, False))
    )
]


@pytest.mark.gpu_full
@pytest.mark.parametrize("case", FULL, ids=lambda c: "-".join(str(x) for x in c[:8]) + f"-{np.dtype(c[8]).name}")
def test_attention_full_matrix(case: tuple) -> None:
    _check_attention(*case, backward=case[3] <= 129)


@pytest.mark.gpu_full
@pytest.mark.parametrize("tq,tk", [(1, 300), (64, 300), (129, 300), (7, 64)])
@pytest.mark.parametrize("d", [32, 64, 128])
def test_attention_full_matrix_decoding(tq: int, tk: int, d: int) -> None:
    _check_attention(1, 4, 2, tq, tk, d, True, "random", np.float32)


def _numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:  # type: ignore[no-untyped-def]
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("causal,tq,tk,hq,hkv", [(True, 4, 6, 4, 2), (False, 5, 5, 2, 2)])
def test_reference_attention_backward_matches_finite_differences(causal, tq, tk, hq, hkv) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    q = rng.standard_normal((1, hq, tq, 3))
    k = rng.standard_normal((1, hkv, tk, 3))
    v = rng.standard_normal((1, hkv, tk, 3))
    w = rng.standard_normal(q.shape)
    mask = np.array([[True] * (tk - 1) + [False]])
    loss = lambda: float((reference.attention_forward(q, k, v, causal, 0.7, mask)[0] * w).sum())  # noqa: E731
    o, lse = reference.attention_forward(q, k, v, causal, 0.7, mask)
    dq, dk, dv = reference.attention_backward(q, k, v, o, lse, w, causal, 0.7, mask)
    for analytic, x in ((dq, q), (dk, k), (dv, v)):
        np.testing.assert_allclose(analytic, _numeric_grad(loss, x), rtol=1e-6, atol=1e-8)


def test_reference_softmax_ce_rmsnorm_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 5))
    w = rng.standard_normal((3, 5))
    y = reference.softmax(x)
    num = _numeric_grad(lambda: float((reference.softmax(x) * w).sum()), x)
    np.testing.assert_allclose(reference.softmax_backward(y, w), num, rtol=1e-6, atol=1e-9)
    t = np.array([1, -100, 4])
    _, g = reference.cross_entropy(x, t)
    np.testing.assert_allclose(g, _numeric_grad(lambda: reference.cross_entropy(x, t)[0], x), rtol=1e-6, atol=1e-9)
    weight = rng.standard_normal(5)
    _, rstd = reference.rms_norm_forward(x, weight)
    rstd64 = 1.0 / np.sqrt((x * x).mean(-1) + 1e-6)
    dx, dw = reference.rms_norm_backward(x, weight, rstd64, w)
    f = lambda: float((reference.rms_norm_forward(x, weight)[0] * w).sum())  # noqa: E731
    np.testing.assert_allclose(dx, _numeric_grad(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, _numeric_grad(f, weight), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(rstd, rstd64, rtol=1e-6)


ROW_SHAPES = [(1, 1), (7, 129), (64, 300), (3, 1000), (5, 2100)]


@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, BF16])
def test_softmax_forward_backward(shape: tuple[int, int], dtype: type) -> None:
    rng = np.random.default_rng(shape[1])
    x = (rng.standard_normal(shape) * 100).astype(dtype)  # logits ×100
    if shape[0] > 2:
        x[1] = -np.inf  # a fully masked row gives zeros
        x[2, ::3] = -np.inf
    tol = TOLERANCE[np.dtype(dtype).name]
    y = ops.softmax(x, backend="emulate")
    assert y.dtype == x.dtype
    assert rel_error(y, ops.softmax(x)) < tol
    if shape[0] > 2:
        assert np.all(np.asarray(y[1], np.float64) == 0)
    # The backward at unscaled logits: with ×100 the rows are one-hot and dx is all cancellation.
    dy = rng.standard_normal(shape).astype(dtype)
    yr = ops.softmax((np.asarray(x, np.float32) / 100).astype(dtype))
    assert rel_error(ops.softmax_backward(yr, dy, backend="emulate"), reference.softmax_backward(yr, dy)) < tol


@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, BF16])
def test_cross_entropy(shape: tuple[int, int], dtype: type) -> None:
    rng = np.random.default_rng(shape[0] * 7 + 1)
    logits = (rng.standard_normal(shape) * 100).astype(dtype)
    targets = rng.integers(0, shape[1], shape[0])
    targets[::3] = -100
    if shape[0] == 1:
        targets[0] = 0
    loss, grad = ops.cross_entropy(logits, targets, backend="emulate")
    loss_ref, grad_ref = ops.cross_entropy(logits, targets)
    tol = TOLERANCE[np.dtype(dtype).name]
    assert abs(float(loss) - loss_ref) <= tol * abs(loss_ref)
    assert grad.dtype == logits.dtype and rel_error(grad, grad_ref) < tol


def test_cross_entropy_all_ignored_gives_zero_loss_and_gradient() -> None:
    logits = np.random.default_rng(1).standard_normal((4, 33)).astype(np.float32)
    targets = np.full(4, -1)
    loss, grad = ops.cross_entropy(logits, targets, ignore_index=-1, backend="emulate")
    assert float(loss) == 0.0 and np.all(grad == 0)


# Not C = 1: there dx = r·g·w·eps / (x² + eps) is pure cancellation in fp32.
@pytest.mark.parametrize("shape", [(1, 3), (7, 129), (130, 64), (3, 2100)])
@pytest.mark.parametrize("dtype", [np.float32, BF16])
def test_rms_norm(shape: tuple[int, int], dtype: type) -> None:
    rng = np.random.default_rng(shape[1])
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    tol = TOLERANCE[np.dtype(dtype).name]
    y, rstd = ops.rms_norm_forward(x, w, backend="emulate")
    y_ref, rstd_ref = ops.rms_norm_forward(x, w)
    assert rel_error(y, y_ref) < tol and rel_error(rstd, rstd_ref) < 1e-5
    dx, dw = ops.rms_norm_backward(x, w, rstd, dy, backend="emulate")
    dx_ref, dw_ref = ops.rms_norm_backward(x, w, rstd, dy)
    assert dx.dtype == x.dtype and dw.dtype == w.dtype
    assert rel_error(dx, dx_ref) < tol and rel_error(dw, dw_ref) < tol


def test_rms_norm_keeps_leading_axes() -> None:
    x = np.random.default_rng(2).standard_normal((2, 3, 40)).astype(np.float32)
    w = np.ones(40, np.float32)
    y, rstd = ops.rms_norm_forward(x, w, backend="emulate")
    assert y.shape == x.shape and rstd.shape == (2, 3)
    assert rel_error(y, ops.rms_norm_forward(x, w)[0]) < 1e-5


def test_backend_none_picks_reference_for_numpy() -> None:
    x = np.random.default_rng(0).standard_normal((2, 5))
    y = ops.softmax(x)  # float64 works only on the reference
    assert y.dtype == np.float64


def test_bad_input_errors_name_the_argument() -> None:
    f = np.float32
    q = np.zeros((1, 3, 4, 32), f)
    kv = np.zeros((1, 2, 4, 32), f)
    with pytest.raises(ValueError, match="multiple of k's 2"):
        ops.attention_forward(q, kv, kv, backend="emulate")
    q4 = np.zeros((1, 4, 4, 48), f)
    kv48 = np.zeros((1, 2, 4, 48), f)
    with pytest.raises(ValueError, match="head dim 48"):
        ops.attention_forward(q4, kv48, kv48, backend="emulate")
    with pytest.raises(ValueError, match="C-contiguous"):
        ops.softmax(np.zeros((4, 6), f)[:, ::2], backend="emulate")
    with pytest.raises(TypeError, match="float32 or bfloat16"):
        ops.softmax(np.zeros((4, 6), np.float64), backend="emulate")
    with pytest.raises(ValueError, match="key_padding_mask: expected shape"):
        ops.attention_forward(np.zeros((1, 2, 4, 32), f), kv, kv, key_padding_mask=np.ones((1, 5), bool), backend="emulate")
    with pytest.raises(ValueError, match=r"targets\[1\] = 9 is outside \[0, 6\)"):
        ops.cross_entropy(np.zeros((2, 6), f), np.array([0, 9]), backend="emulate")
    with pytest.raises(TypeError, match="must share one dtype"):
        ops.softmax_backward(np.zeros((2, 3), f), np.zeros((2, 3), BF16), backend="emulate")
    with pytest.raises(ValueError, match="backend must be"):
        ops.softmax(np.zeros((2, 3), f), backend="gpu")
