"""Plain NumPy forward and backward of every transformer layer: the truth the kernels are tested against.

Dtype-generic (float64 for finite-difference checks, float32 for kernel comparisons), written for
clarity, not speed: attention here builds the full (Tq, Tk) score matrix. Layouts are the model's:
rows `(N, C)` for norms and the MLP, `(B, T, H, D)` for attention and RoPE.
"""

from __future__ import annotations

import math

import numpy as np

GELU_C = math.sqrt(2.0 / math.pi)


# -- norms -----------------------------------------------------------------------------------------
def rms_norm_forward(x: np.ndarray, w: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """y = x / sqrt(mean(x²) + eps) * w, row-wise; also returns rstd (N,)."""
    rstd = 1.0 / np.sqrt(np.mean(x * x, axis=-1) + eps)
    return (x * rstd[:, None] * w).astype(x.dtype), rstd.astype(x.dtype)


def rms_norm_backward(x: np.ndarray, w: np.ndarray, rstd: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of rms_norm_forward with respect to x and w."""
    xhat = x * rstd[:, None]
    dw = np.sum(dy * xhat, axis=0)
    g = dy * w
    dx = rstd[:, None] * (g - xhat * np.mean(g * xhat, axis=-1, keepdims=True))
    return dx.astype(x.dtype), dw.astype(w.dtype)


def layer_norm_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y = (x - mean) / sqrt(var + eps) * w + b; also returns mean and rstd (N,)."""
    mean = np.mean(x, axis=-1)
    xc = x - mean[:, None]
    rstd = 1.0 / np.sqrt(np.mean(xc * xc, axis=-1) + eps)
    return (xc * rstd[:, None] * w + b).astype(x.dtype), mean, rstd


def layer_norm_backward(
    x: np.ndarray, w: np.ndarray, mean: np.ndarray, rstd: np.ndarray, dy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of layer_norm_forward with respect to x, w and b."""
    xhat = (x - mean[:, None]) * rstd[:, None]
    dw = np.sum(dy * xhat, axis=0)
    db = np.sum(dy, axis=0)
    g = dy * w
    dx = rstd[:, None] * (g - np.mean(g, axis=-1, keepdims=True) - xhat * np.mean(g * xhat, axis=-1, keepdims=True))
    return dx.astype(x.dtype), dw.astype(w.dtype), db.astype(w.dtype)


# -- rotary position embedding -------------------------------------------------------------------
def rope_tables(max_positions: int, head_dim: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin (max_positions, head_dim // 2), float64: angle = pos * theta^(-2i/D)."""
    inv_freq = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.arange(max_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    return np.cos(angles), np.sin(angles)


def rope(x: np.ndarray, positions: np.ndarray, cos: np.ndarray, sin: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Rotate halves (Llama/HF layout): [x1, x2] -> [x1 c - x2 s, x2 c + x1 s]; x (B, T, H, D), positions (B, T).

    The backward of a rotation is the rotation by the opposite angle (`inverse=True`).
    """
    half = x.shape[-1] // 2
    c = cos[positions][:, :, None, :].astype(x.dtype)  # (B, T, 1, D/2)
    s = sin[positions][:, :, None, :].astype(x.dtype)
    if inverse:
        s = -s
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)


# -- attention -------------------------------------------------------------------------------------
def _allowed(b: int, tq: int, tk: int, causal: bool, key_mask: np.ndarray | None) -> np.ndarray:
    """(Tq, Tk) boolean: causal aligned bottom-right (query i sees keys j <= i + Tk - Tq), then the key mask."""
    allowed = np.ones((tq, tk), dtype=bool)
    if causal:
        allowed &= np.arange(tk)[None, :] <= np.arange(tq)[:, None] + (tk - tq)
    if key_mask is not None:
        allowed &= key_mask[b][None, :]
    return allowed


def attention_forward(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = True, scale: float | None = None, key_mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax attention with grouped K/V heads: q (B, Tq, Hq, D), k and v (B, Tk, Hkv, D).

    Returns o (B, Tq, Hq, D) and the log-sum-exp of the scaled scores (B, Hq, Tq); a row with no
    allowed key gives o = 0 and lse = -inf. Memory grows with Tq·Tk.
    """
    bsz, tq, hq, d = q.shape
    tk, hkv = k.shape[1], k.shape[2]
    group = hq // hkv
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    o = np.zeros_like(q)
    lse = np.full((bsz, hq, tq), -np.inf, dtype=q.dtype)
    for b in range(bsz):
        allowed = _allowed(b, tq, tk, causal, key_mask)
        for h in range(hq):
            s = scale * (q[b, :, h, :] @ k[b, :, h // group, :].T)
            s = np.where(allowed, s, -np.inf)
            m = np.max(s, axis=1, keepdims=True)
            live = np.isfinite(m[:, 0])
            p = np.where(allowed, np.exp(s - np.where(live[:, None], m, 0.0)), 0.0)
            total = p.sum(axis=1)
            o[b, live, h, :] = (p[live] / total[live, None]) @ v[b, :, h // group, :]
            lse[b, h, live] = m[live, 0] + np.log(total[live])
    return o, lse


def attention_backward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    o: np.ndarray,
    lse: np.ndarray,
    do: np.ndarray,
    causal: bool = True,
    scale: float | None = None,
    key_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of attention_forward, recomputing the probabilities from the saved lse."""
    bsz, tq, hq, d = q.shape
    tk, hkv = k.shape[1], k.shape[2]
    group = hq // hkv
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    for b in range(bsz):
        allowed = _allowed(b, tq, tk, causal, key_mask)
        for h in range(hq):
            kh, vh = k[b, :, h // group, :], v[b, :, h // group, :]
            s = scale * (q[b, :, h, :] @ kh.T)
            row_lse = lse[b, h][:, None]
            p = np.where(allowed & np.isfinite(row_lse), np.exp(s - np.where(np.isfinite(row_lse), row_lse, 0.0)), 0.0)
            dp = do[b, :, h, :] @ vh.T
            delta = np.sum(do[b, :, h, :] * o[b, :, h, :], axis=1, keepdims=True)
            ds = p * (dp - delta)
            dq[b, :, h, :] = scale * (ds @ kh)
            dk[b, :, h // group, :] += scale * (ds.T @ q[b, :, h, :])
            dv[b, :, h // group, :] += p.T @ do[b, :, h, :]
    return dq, dk, dv


# -- MLP activations ---------------------------------------------------------------------------------
def swiglu_forward(gu: np.ndarray) -> np.ndarray:
    """silu(g) * u for gu = [g | u] along the last axis: (N, 2F) -> (N, F)."""
    g, u = np.split(gu, 2, axis=-1)
    return g / (1.0 + np.exp(-g)) * u


def swiglu_backward(gu: np.ndarray, ds: np.ndarray) -> np.ndarray:
    """Gradient of swiglu_forward with respect to gu = [g | u]: (N, 2F)."""
    g, u = np.split(gu, 2, axis=-1)
    sig = 1.0 / (1.0 + np.exp(-g))
    return np.concatenate([ds * u * sig * (1.0 + g * (1.0 - sig)), ds * g * sig], axis=-1)


def gelu_forward(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (GPT-2's)."""
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x**3)))


def gelu_backward(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Gradient of gelu_forward."""
    inner = GELU_C * (x + 0.044715 * x**3)
    t = np.tanh(inner)
    return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * x * x))


# -- loss -------------------------------------------------------------------------------------------------
def cross_entropy(logits: np.ndarray, targets: np.ndarray, ignore_index: int = -100) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy over non-ignored rows and its gradient (N, V); all ignored: 0 and zeros."""
    valid = targets != ignore_index
    count = int(valid.sum())
    dlogits = np.zeros_like(logits)
    if count == 0:
        return 0.0, dlogits
    x = logits[valid].astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(x - m).sum(axis=1))
    rows = np.arange(len(x))
    t = targets[valid]
    loss = float(np.sum(lse - x[rows, t]) / count)
    p = np.exp(x - lse[:, None])
    p[rows, t] -= 1.0
    dlogits[valid] = p / count
    return loss, dlogits


# -- optimiser ------------------------------------------------------------------------------------------
def adamw_step(
    p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, step: int
) -> None:
    """One AdamW update in place (decoupled weight decay, bias-corrected moments); step counts from 1."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    mhat = m / (1 - beta1**step)
    vhat = v / (1 - beta2**step)
    p -= (lr * (mhat / (np.sqrt(vhat) + eps) + weight_decay * p)).astype(p.dtype)
