"""Our conventions are PyTorch's: the emulated kernels against torch on the CPU (SDPA with a
boolean mask where True = attend, bottom-right causal for Tq < Tk via causal_lower_right, GQA
by repeating KV heads; F.cross_entropy with ignore_index; F.rms_norm) and their gradients."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.gpu import ops
from corpuskit.gpu.reference import relative_error

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.usefixtures("emulator")


def _torch_attention(q, k, v, causal, mask):  # type: ignore[no-untyped-def]
    from torch.nn.attention.bias import causal_lower_right

    group = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    tq, tk = q.shape[2], k.shape[2]
    if causal and mask is None:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(tq, tk))
    allowed = torch.ones(tq, tk, dtype=torch.bool)
    if causal:
        allowed = torch.ones(tq, tk, dtype=torch.bool).tril(diagonal=tk - tq)
    full = allowed[None, None] & mask[:, None, None, :]
    return F.scaled_dot_product_attention(q, k, v, attn_mask=full)


@pytest.mark.parametrize("tq,tk,causal,masked", [(7, 129, True, False), (64, 64, True, True), (33, 70, False, True)])
def test_attention_matches_torch_sdpa(tq: int, tk: int, causal: bool, masked: bool) -> None:
    rng = np.random.default_rng(tq + tk)
    q = rng.standard_normal((2, 4, tq, 32)).astype(np.float32)
    k = rng.standard_normal((2, 2, tk, 32)).astype(np.float32)
    v = rng.standard_normal((2, 2, tk, 32)).astype(np.float32)
    do = rng.standard_normal(q.shape).astype(np.float32)
    mask = (rng.random((2, tk)) > 0.3) if masked else None
    if mask is not None:
        mask[:, -1] = True  # every row keeps a key (torch gives NaN for a fully masked row)
    o, lse = ops.attention_forward(q, k, v, causal=causal, key_padding_mask=mask, backend="emulate")
    tq_, tk_, tv_ = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (q, k, v))
    t_o = _torch_attention(tq_, tk_, tv_, causal, None if mask is None else torch.tensor(mask))
    t_o.backward(torch.tensor(do, dtype=torch.float64))
    assert relative_error(o, t_o.detach().numpy()) < 1e-5
    grads = ops.attention_backward(q, k, v, o, lse, do, causal=causal, key_padding_mask=mask, backend="emulate")
    for g, t in zip(grads, (tq_, tk_, tv_)):
        assert relative_error(g, t.grad.numpy()) < 1e-5


def test_cross_entropy_and_rms_norm_match_torch() -> None:
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((9, 300)).astype(np.float32)
    targets = rng.integers(0, 300, 9)
    targets[[2, 5]] = -100
    loss, grad = ops.cross_entropy(logits, targets, backend="emulate")
    t_logits = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    t_loss = F.cross_entropy(t_logits, torch.tensor(targets), ignore_index=-100)
    t_loss.backward()
    assert abs(float(loss) - t_loss.item()) < 1e-5 * abs(t_loss.item())
    assert relative_error(grad, t_logits.grad.numpy()) < 1e-5
    x = rng.standard_normal((9, 300)).astype(np.float32)
    w = rng.standard_normal(300).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y, rstd = ops.rms_norm_forward(x, w, eps=1e-6, backend="emulate")
    tx, tw = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w))
    ty = F.rms_norm(tx, (300,), tw, eps=1e-6)
    ty.backward(torch.tensor(dy, dtype=torch.float64))
    assert relative_error(y, ty.detach().numpy()) < 1e-5
    dx, dw = ops.rms_norm_backward(x, w, rstd, dy, backend="emulate")
    assert relative_error(dx, tx.grad.numpy()) < 1e-5
    assert relative_error(dw, tw.grad.numpy()) < 1e-5
