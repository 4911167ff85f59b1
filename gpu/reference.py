"""Float64 NumPy references: the truth every kernel is tested against.

Same names and conventions as `corpuskit.gpu.ops` (see there). Results come back in the input's
dtype (lse and rstd in float32); everything inside is float64. Memory: attention materialises the
full (B, Hq, Tq, Tk) score array, so keep shapes test-sized.
"""

from __future__ import annotations

import numpy as np


def _f64(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def segment_ids(cu_seqlens: np.ndarray, t: int) -> np.ndarray:
    """Document id of each of t packed positions: cu_seqlens [0, 3, 5] gives [0, 0, 0, 1, 1]."""
    return np.searchsorted(np.asarray(cu_seqlens)[1:], np.arange(t), side="right")


def attention_mask(
    b: int,
    tq: int,
    tk: int,
    causal: bool,
    key_padding_mask: np.ndarray | None,
    cu_seqlens: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean (B, 1, Tq, Tk), True = attend. Causal is aligned bottom-right: query i sees keys
    j <= i + Tk - Tq (the last query sees every key, as when decoding against a KV cache).
    cu_seqlens (packed documents, Tq == Tk): a query sees only keys of its own document."""
    allowed = np.ones((b, 1, tq, tk), dtype=bool)
    if causal:
        i = np.arange(tq)[:, None]
        j = np.arange(tk)[None, :]
        allowed &= (j <= i + (tk - tq))[None, None]
    if key_padding_mask is not None:
        allowed &= np.asarray(key_padding_mask, dtype=bool)[:, None, None, :]
    if cu_seqlens is not None:
        seg = segment_ids(cu_seqlens, tk)
        allowed &= (seg[:tq, None] == seg[None, :])[None, None]
    return allowed


def _expand_kv(k: np.ndarray, hq: int) -> np.ndarray:
    """(B, Hkv, T, D) -> (B, Hq, T, D): query head h reads KV head h // (Hq // Hkv)."""
    return np.repeat(k, hq // k.shape[1], axis=1)


def _attention_probs(q, k, causal, scale, key_padding_mask, cu_seqlens=None):  # type: ignore[no-untyped-def]
    b, hq, tq, d = q.shape
    tk = k.shape[2]
    scale = 1.0 / np.sqrt(d) if scale is None else float(scale)
    s = np.einsum("bhid,bhjd->bhij", _f64(q), _expand_kv(_f64(k), hq)) * scale
    allowed = np.broadcast_to(attention_mask(b, tq, tk, causal, key_padding_mask, cu_seqlens), s.shape)
    s = np.where(allowed, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    live = np.isfinite(m)
    m_safe = np.where(live, m, 0.0)
    z = np.where(allowed, np.exp(s - m_safe), 0.0)
    total = z.sum(axis=-1, keepdims=True)
    p = np.where(live, z / np.where(live, total, 1.0), 0.0)
    lse = np.where(live, m_safe + np.log(np.where(live, total, 1.0)), -np.inf)[..., 0]
    return p, lse, scale


def attention_forward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    causal: bool = True,
    scale: float | None = None,
    key_padding_mask: np.ndarray | None = None,
    cu_seqlens: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """o = softmax(q kᵀ · scale, masked) v per head; lse (B, Hq, Tq) float32, natural log."""
    p, lse, _ = _attention_probs(q, k, causal, scale, key_padding_mask, cu_seqlens)
    o = np.einsum("bhij,bhjd->bhid", p, _expand_kv(_f64(v), q.shape[1]))
    return o.astype(q.dtype), lse.astype(np.float32)


def attention_backward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    o: np.ndarray,
    lse: np.ndarray,
    do: np.ndarray,
    causal: bool = True,
    scale: float | None = None,
    key_padding_mask: np.ndarray | None = None,
    cu_seqlens: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact gradients of attention_forward's o. Recomputes the probabilities in float64 from
    q, k, v (o and lse are accepted for the shared signature and not trusted)."""
    hq, hkv = q.shape[1], k.shape[1]
    p, _, scale = _attention_probs(q, k, causal, scale, key_padding_mask, cu_seqlens)
    dof = _f64(do)
    vr = _expand_kv(_f64(v), hq)
    o64 = np.einsum("bhij,bhjd->bhid", p, vr)
    dp = np.einsum("bhid,bhjd->bhij", dof, vr)
    ds = p * (dp - (dof * o64).sum(-1, keepdims=True))
    dq = np.einsum("bhij,bhjd->bhid", ds, _expand_kv(_f64(k), hq)) * scale
    dk_rep = np.einsum("bhij,bhid->bhjd", ds, _f64(q)) * scale
    dv_rep = np.einsum("bhij,bhid->bhjd", p, dof)
    group = hq // hkv
    b, _, tk, d = k.shape
    dk = dk_rep.reshape(b, hkv, group, tk, d).sum(2)
    dv = dv_rep.reshape(b, hkv, group, tk, d).sum(2)
    return dq.astype(q.dtype), dk.astype(k.dtype), dv.astype(v.dtype)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; -inf entries give 0, a row of only -inf gives zeros."""
    xf = _f64(x)
    m = xf.max(axis=-1, keepdims=True)
    live = np.isfinite(m)
    z = np.where(np.isneginf(xf), 0.0, np.exp(xf - np.where(live, m, 0.0)))
    total = z.sum(axis=-1, keepdims=True)
    return np.where(live, z / np.where(total > 0, total, 1.0), 0.0).astype(x.dtype)


def softmax_backward(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx = y ∘ (dy − Σ y∘dy) over the last axis."""
    yf, dyf = _f64(y), _f64(dy)
    return (yf * (dyf - (yf * dyf).sum(-1, keepdims=True))).astype(y.dtype)


def cross_entropy(
    logits: np.ndarray, targets: np.ndarray, ignore_index: int = -100
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood over non-ignored rows and its gradient w.r.t. the logits."""
    x = _f64(logits)
    t = np.asarray(targets).astype(np.int64)
    valid = t != ignore_index
    n = int(valid.sum())
    m = x.max(axis=-1, keepdims=True)
    z = np.exp(x - m)
    total = z.sum(-1, keepdims=True)
    lse = (m + np.log(total))[:, 0]
    rows = np.nonzero(valid)[0]
    grad = np.zeros_like(x)
    if n == 0:
        return 0.0, grad.astype(logits.dtype)
    loss = float((lse[rows] - x[rows, t[rows]]).sum() / n)
    grad[rows] = z[rows] / total[rows]
    grad[rows, t[rows]] -= 1.0
    return loss, (grad / n).astype(logits.dtype)


def rms_norm_forward(
    x: np.ndarray, weight: np.ndarray, eps: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """y = x / sqrt(mean(x²) + eps) · weight over the last axis; rstd float32 per row."""
    xf = _f64(x)
    rstd = 1.0 / np.sqrt((xf * xf).mean(-1) + eps)
    return (xf * rstd[..., None] * _f64(weight)).astype(x.dtype), rstd.astype(np.float32)


def rms_norm_backward(
    x: np.ndarray, weight: np.ndarray, rstd: np.ndarray, dy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of rms_norm_forward's y w.r.t. x and weight, rstd taken as given."""
    xf, w, r, g = _f64(x), _f64(weight), _f64(rstd)[..., None], _f64(dy)
    gw = g * w
    dx = r * gw - xf * r**3 * (gw * xf).mean(-1, keepdims=True)
    dw = (g * xf * r).reshape(-1, x.shape[-1]).sum(0)
    return dx.astype(x.dtype), dw.astype(weight.dtype)


def relative_error(out: np.ndarray, ref: np.ndarray) -> float:
    """‖out − ref‖ / ‖ref‖ in float64, the measure every kernel check uses.

    Raises AssertionError when out has NaN (an element the kernel never wrote: tests pre-fill
    outputs with NaN) or when the infinite entries of out and ref differ (they are then left
    out of the norm).
    """
    a = np.asarray(out, dtype=np.float64)
    b = np.asarray(ref, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shape {a.shape} != reference shape {b.shape}")
    if np.isnan(a).any():
        raise AssertionError(f"{int(np.isnan(a).sum())} NaN in the output, first at {np.argwhere(np.isnan(a))[0].tolist()}")
    inf = np.isinf(b)
    if not (np.array_equal(np.isinf(a), inf) and np.array_equal(a[inf], b[inf])):
        raise AssertionError("infinite entries differ from the reference's")
    a, b = a[~inf], b[~inf]
    denom = float(np.linalg.norm(b))
    diff = float(np.linalg.norm(a - b))
    return diff / denom if denom > 0 else diff
