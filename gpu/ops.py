"""The public kernels: the same names and arguments for every backend.

    o, lse = attention_forward(q, k, v, causal=True, scale=None, key_padding_mask=None, backend=None, *, cu_seqlens=None)
    dq, dk, dv = attention_backward(q, k, v, o, lse, do, causal=True, scale=None, key_padding_mask=None, backend=None, *, cu_seqlens=None)
    y = softmax(x);  dx = softmax_backward(y, dy)                       # last axis of a 2-D array
    loss, dlogits = cross_entropy(logits, targets, ignore_index=-100)    # (N, V), (N,)
    y, rstd = rms_norm_forward(x, weight, eps=1e-6);  dx, dw = rms_norm_backward(x, weight, rstd, dy)

Conventions: q is (B, Hq, Tq, D), k and v (B, Hkv, Tk, D) with Hq a multiple of Hkv and Tq <= Tk
allowed (causal is aligned bottom-right); lse (B, Hq, Tq) float32, natural log; key_padding_mask
is boolean (B, Tk), True = attend (PyTorch SDPA's sense); a fully masked row gives o = 0 and
lse = -inf. cu_seqlens (keyword-only; Tq == Tk) packs documents along T: an int array
[0, len0, len0 + len1, ..., T], the same for every batch row; attention never crosses a
document boundary (causal within each). Gradients come back in the input dtype, accumulated in fp32. A cross-entropy whose
targets are all ignored gives loss 0 and a zero gradient.

backend: None picks "cupy" for CuPy arrays and "reference" for NumPy ones; "cupy" runs the CUDA
kernels on the GPU; "emulate" runs the same CUDA source on the CPU (NumPy float32 or
ml_dtypes.bfloat16 arrays); "reference" is the float64 NumPy truth. An EmulateBackend instance
(shuffled block order, ThreadSanitizer) is accepted too. Kernel backends want C-contiguous
float32 or bfloat16 arrays and say which argument is wrong otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from corpuskit.gpu import reference
from corpuskit.gpu.backends import CupyBackend, EmulateBackend
from corpuskit.gpu.kernels import ATTENTION_TILES, HEAD_DIMS, attention_shared_bytes

THREADS = 128  # attention blocks; row kernels pick theirs from the row length
MAX_GRID_Y = 65535


def _is_cupy(a: Any) -> bool:
    return type(a).__module__.split(".")[0] == "cupy"


def _backend(backend: Any, first: Any) -> Any:
    """Resolves the backend argument to "reference" or a backend object."""
    if backend is None:
        backend = "cupy" if _is_cupy(first) else "reference"
    if backend == "reference":
        if _is_cupy(first):
            raise TypeError("backend='reference' takes NumPy arrays, got CuPy arrays")
        return "reference"
    if backend == "cupy":
        return CupyBackend()
    if backend == "emulate":
        return EmulateBackend()
    if hasattr(backend, "launch") and hasattr(backend, "xp"):
        return backend
    raise ValueError(f"backend must be None, 'cupy', 'emulate', 'reference' or a backend object, got {backend!r}")


def _suffix(name: str, a: Any) -> str:
    dtype = np.dtype(a.dtype) if not _is_cupy(a) else a.dtype
    if dtype == np.float32:
        return "f32"
    if getattr(dtype, "name", "") == "bfloat16":
        return "bf16"
    raise TypeError(f"{name}: expected float32 or bfloat16, got {dtype}")


def _check_arrays(backend: Any, **arrays: Any) -> None:
    """Every array is the backend's array type, C-contiguous, and of one float dtype."""
    dtypes = set()
    for name, a in arrays.items():
        if backend.name == "cupy" and not _is_cupy(a):
            raise TypeError(f"{name}: backend 'cupy' takes CuPy arrays, got {type(a).__name__}")
        if backend.name != "cupy" and not isinstance(a, np.ndarray):
            raise TypeError(f"{name}: backend {backend.name!r} takes NumPy arrays, got {type(a).__name__}")
        if not a.flags.c_contiguous:
            raise ValueError(f"{name}: expected a C-contiguous array (strides {a.strides} for shape {a.shape})")
        dtypes.add(_suffix(name, a))
    if len(dtypes) > 1:
        raise TypeError(f"arrays {sorted(arrays)} must share one dtype, got {[str(a.dtype) for a in arrays.values()]}")


def _shape(name: str, a: Any, ndim: int) -> tuple[int, ...]:
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {tuple(a.shape)}")
    if any(n < 1 for n in a.shape):
        raise ValueError(f"{name}: every dimension must be at least 1, got shape {tuple(a.shape)}")
    return tuple(int(n) for n in a.shape)


def _row_threads(cols: int) -> int:
    """Threads per block for the one-row-per-block kernels: 128 up to 2,048 columns, more for
    long rows (16 or more elements per thread), at most 1,024."""
    return min(1024, max(128, 1 << max(0, (cols // 16 - 1).bit_length())))


def _attention_shapes(q: Any, k: Any, v: Any, key_padding_mask: Any) -> tuple[int, int, int, int, int, int]:
    b, hq, tq, d = _shape("q", q, 4)
    bk, hkv, tk, dk = _shape("k", k, 4)
    if tuple(v.shape) != tuple(k.shape):
        raise ValueError(f"v: expected the shape of k {tuple(k.shape)}, got {tuple(v.shape)}")
    if bk != b or dk != d:
        raise ValueError(f"k: expected batch {b} and head dim {d} like q, got shape {tuple(k.shape)}")
    if hq % hkv:
        raise ValueError(f"q has {hq} heads, not a multiple of k's {hkv} (grouped-query attention)")
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != (b, tk):
        raise ValueError(f"key_padding_mask: expected shape (B, Tk) = {(b, tk)}, got {tuple(key_padding_mask.shape)}")
    if key_padding_mask is not None and key_padding_mask.dtype != bool:
        raise TypeError(f"key_padding_mask: expected a boolean array (True = attend), got {key_padding_mask.dtype}")
    return b, hq, hkv, tq, tk, d


def _check_cu_seqlens(cu_seqlens: Any, tq: int, tk: int) -> np.ndarray:
    """cu_seqlens as a host int64 array, checked: 1-D, starts at 0, ends at T, never decreases."""
    cu = np.asarray(cu_seqlens.get() if _is_cupy(cu_seqlens) else cu_seqlens)
    if tq != tk:
        raise ValueError(f"cu_seqlens: packed sequences need Tq == Tk, got Tq={tq}, Tk={tk}")
    if cu.ndim != 1 or cu.size < 2 or not np.issubdtype(cu.dtype, np.integer):
        raise ValueError(f"cu_seqlens: expected a 1-D integer array [0, ..., T], got {cu.dtype} shape {cu.shape}")
    if cu[0] != 0 or cu[-1] != tk or np.any(np.diff(cu) < 0):
        raise ValueError(f"cu_seqlens: expected non-decreasing offsets from 0 to T={tk}, got {cu.tolist()[:8]}...")
    return cu.astype(np.int64)


def _attention_common(
    bk: Any, q: Any, k: Any, v: Any, key_padding_mask: Any, causal: bool, scale: float | None, cu_seqlens: Any
):
    b, hq, hkv, tq, tk, d = _attention_shapes(q, k, v, key_padding_mask)
    if d not in HEAD_DIMS:
        raise ValueError(f"q: head dim {d} has no kernel; expected one of {HEAD_DIMS}")
    if b * hq > MAX_GRID_Y:
        raise ValueError(f"B * Hq = {b * hq} exceeds the grid limit {MAX_GRID_Y}")
    xp = bk.xp
    if key_padding_mask is None:
        mask, has_mask = xp.zeros(1, dtype=xp.uint8), 0
    else:
        mask, has_mask = xp.ascontiguousarray(key_padding_mask.astype(xp.uint8)), 1
    if cu_seqlens is None:
        segments, has_segments = xp.zeros(1, dtype=xp.int32), 0
    else:
        seg = reference.segment_ids(_check_cu_seqlens(cu_seqlens, tq, tk), tk)
        segments, has_segments = xp.asarray(seg.astype(np.int32)), 1
    scale = 1.0 / math.sqrt(d) if scale is None else float(scale)
    tail = [
        mask, np.int32(has_mask), segments, np.int32(has_segments), np.int32(b), np.int32(hq), np.int32(hkv),
        np.int32(tq), np.int32(tk), np.float32(scale), np.int32(bool(causal)),
    ]
    return (b, hq, hkv, tq, tk, d), tail


def attention_forward(
    q: Any,
    k: Any,
    v: Any,
    causal: bool = True,
    scale: float | None = None,
    key_padding_mask: Any = None,
    backend: Any = None,
    *,
    cu_seqlens: Any = None,
) -> tuple[Any, Any]:
    """FlashAttention forward: o (like q) and lse (B, Hq, Tq) float32. Memory: O(B·H·T·D), never T²."""
    bk = _backend(backend, q)
    if bk == "reference":
        _, _, _, tq, tk, _ = _attention_shapes(q, k, v, key_padding_mask)
        cu = None if cu_seqlens is None else _check_cu_seqlens(cu_seqlens, tq, tk)
        return reference.attention_forward(q, k, v, causal, scale, key_padding_mask, cu)
    _check_arrays(bk, q=q, k=k, v=v)
    (b, hq, _, tq, _, d), tail = _attention_common(bk, q, k, v, key_padding_mask, causal, scale, cu_seqlens)
    o = bk.empty(q.shape, q.dtype)
    lse = bk.empty((b, hq, tq), np.float32)
    bm, _ = ATTENTION_TILES["fwd"][d]
    bk.launch(
        "attention", f"attn_fwd_d{d}_{_suffix('q', q)}", (math.ceil(tq / bm), b * hq), (THREADS,),
        [q, k, v, o, lse, *tail], attention_shared_bytes("fwd", d),
    )
    return o, lse


def attention_backward(
    q: Any,
    k: Any,
    v: Any,
    o: Any,
    lse: Any,
    do: Any,
    causal: bool = True,
    scale: float | None = None,
    key_padding_mask: Any = None,
    backend: Any = None,
    *,
    cu_seqlens: Any = None,
) -> tuple[Any, Any, Any]:
    """Gradients dq, dk, dv (input dtype) from the forward's o and lse; deterministic (no atomics).
    Work: O(B·Hq·Tq·Tk·D), recomputing the scores once for dK/dV and once for dQ."""
    bk = _backend(backend, q)
    if bk == "reference":
        _, _, _, tq, tk, _ = _attention_shapes(q, k, v, key_padding_mask)
        cu = None if cu_seqlens is None else _check_cu_seqlens(cu_seqlens, tq, tk)
        return reference.attention_backward(q, k, v, o, lse, do, causal, scale, key_padding_mask, cu)
    _check_arrays(bk, q=q, k=k, v=v, o=o, do=do)
    (b, hq, hkv, tq, tk, d), tail = _attention_common(bk, q, k, v, key_padding_mask, causal, scale, cu_seqlens)
    for name, a in (("o", o), ("do", do)):
        if tuple(a.shape) != tuple(q.shape):
            raise ValueError(f"{name}: expected the shape of q {tuple(q.shape)}, got {tuple(a.shape)}")
    if tuple(lse.shape) != (b, hq, tq) or lse.dtype != np.float32 or not lse.flags.c_contiguous:
        raise ValueError(f"lse: expected a contiguous float32 array of shape {(b, hq, tq)}, got {lse.dtype} {tuple(lse.shape)}")
    t = _suffix("q", q)
    delta = bk.empty((b, hq, tq), np.float32)
    rows = b * hq * tq
    bk.launch("attention", f"attn_bwd_pre_{t}", (math.ceil(rows / (THREADS // 32)),), (THREADS,),
              [o, do, delta, np.int32(rows), np.int32(d)])
    dq = bk.empty(q.shape, q.dtype)
    dk = bk.empty(k.shape, k.dtype)
    dv = bk.empty(v.shape, v.dtype)
    _, bn = ATTENTION_TILES["bwd_dkdv"][d]
    bk.launch(
        "attention", f"attn_bwd_dkdv_d{d}_{t}", (math.ceil(tk / bn), b * hkv), (THREADS,),
        [q, k, v, do, lse, delta, dk, dv, *tail], attention_shared_bytes("bwd_dkdv", d),
    )
    bm, _ = ATTENTION_TILES["bwd_dq"][d]
    bk.launch(
        "attention", f"attn_bwd_dq_d{d}_{t}", (math.ceil(tq / bm), b * hq), (THREADS,),
        [q, k, v, do, lse, delta, dq, *tail], attention_shared_bytes("bwd_dq", d),
    )
    return dq, dk, dv


def softmax(x: Any, backend: Any = None) -> Any:
    """Softmax over the last axis of a 2-D array (-inf allowed; a row of -inf gives zeros)."""
    bk = _backend(backend, x)
    rows, cols = _shape("x", x, 2)
    if bk == "reference":
        return reference.softmax(x)
    _check_arrays(bk, x=x)
    y = bk.empty(x.shape, x.dtype)
    bk.launch("softmax", f"softmax_fwd_{_suffix('x', x)}", (rows,), (_row_threads(cols),), [x, y, np.int32(cols)])
    return y


def softmax_backward(y: Any, dy: Any, backend: Any = None) -> Any:
    """dx = y ∘ (dy − Σ y∘dy) over the last axis, from softmax's output y."""
    bk = _backend(backend, y)
    rows, cols = _shape("y", y, 2)
    if tuple(dy.shape) != (rows, cols):
        raise ValueError(f"dy: expected shape {(rows, cols)} like y, got {tuple(dy.shape)}")
    if bk == "reference":
        return reference.softmax_backward(y, dy)
    _check_arrays(bk, y=y, dy=dy)
    dx = bk.empty(y.shape, y.dtype)
    bk.launch("softmax", f"softmax_bwd_{_suffix('y', y)}", (rows,), (_row_threads(cols),), [y, dy, dx, np.int32(cols)])
    return dx


def cross_entropy(logits: Any, targets: Any, ignore_index: int = -100, backend: Any = None) -> tuple[Any, Any]:
    """Mean cross-entropy over rows whose target is not ignore_index, and d(loss)/d(logits).

    One kernel reads each row, writes its gradient and its loss; the losses are summed in a
    fixed order. Kernel backends return the loss as a 0-d float32 array of their array module.
    Targets are checked to lie in [0, V) (on the GPU this costs one device-to-host sync).
    """
    bk = _backend(backend, logits)
    n, vocab = _shape("logits", logits, 2)
    if targets.ndim != 1 or targets.shape[0] != n:
        raise ValueError(f"targets: expected shape ({n},) to match logits {(n, vocab)}, got {tuple(targets.shape)}")
    if not np.issubdtype(np.dtype(str(targets.dtype)), np.integer):
        raise TypeError(f"targets: expected integer class ids, got {targets.dtype}")
    xp = np if bk == "reference" else bk.xp
    bad = ((targets < 0) | (targets >= vocab)) & (targets != ignore_index)
    if bool(bad.any()):
        row = int(xp.argmax(bad))
        raise ValueError(f"targets[{row}] = {int(targets[row])} is outside [0, {vocab}) and not ignore_index ({ignore_index})")
    if bk == "reference":
        return reference.cross_entropy(logits, targets, ignore_index)
    _check_arrays(bk, logits=logits)
    t = xp.ascontiguousarray(targets.astype(xp.int64))
    valid = (t != ignore_index).sum(dtype=xp.int32).reshape(1)
    dlogits = bk.empty(logits.shape, logits.dtype)
    row_loss = bk.empty((n,), np.float32)
    bk.launch(
        "cross_entropy", f"cross_entropy_{_suffix('logits', logits)}", (n,), (_row_threads(vocab),),
        [logits, t, dlogits, row_loss, valid, np.int32(vocab), np.int64(ignore_index)],
    )
    loss = row_loss.sum(dtype=xp.float32) / xp.maximum(valid[0], 1).astype(xp.float32)
    return xp.asarray(loss, dtype=xp.float32), dlogits


def _rms_shapes(x: Any, weight: Any) -> tuple[int, int]:
    if x.ndim < 1 or x.shape[-1] < 1 or x.size < 1:
        raise ValueError(f"x: expected a non-empty array (..., C), got shape {tuple(x.shape)}")
    cols = int(x.shape[-1])
    if tuple(weight.shape) != (cols,):
        raise ValueError(f"weight: expected shape ({cols},) to match x's last axis, got {tuple(weight.shape)}")
    return int(x.size // cols), cols


def rms_norm_forward(x: Any, weight: Any, eps: float = 1e-6, backend: Any = None) -> tuple[Any, Any]:
    """RMSNorm over the last axis: y (like x) and rstd (x.shape[:-1], float32)."""
    bk = _backend(backend, x)
    rows, cols = _rms_shapes(x, weight)
    if bk == "reference":
        return reference.rms_norm_forward(x, weight, eps)
    _check_arrays(bk, x=x, weight=weight)
    y = bk.empty(x.shape, x.dtype)
    rstd = bk.empty(x.shape[:-1], np.float32)
    bk.launch("rms_norm", f"rms_norm_fwd_{_suffix('x', x)}", (rows,), (_row_threads(cols),),
              [x, weight, y, rstd, np.int32(cols), np.float32(eps)])
    return y, rstd


def rms_norm_backward(x: Any, weight: Any, rstd: Any, dy: Any, backend: Any = None) -> tuple[Any, Any]:
    """Gradients dx (like x) and dw (like weight) of rms_norm_forward; dw summed in a fixed order."""
    bk = _backend(backend, x)
    rows, cols = _rms_shapes(x, weight)
    if tuple(dy.shape) != tuple(x.shape):
        raise ValueError(f"dy: expected shape {tuple(x.shape)} like x, got {tuple(dy.shape)}")
    if tuple(rstd.shape) != tuple(x.shape[:-1]):
        raise ValueError(f"rstd: expected shape {tuple(x.shape[:-1])}, got {tuple(rstd.shape)}")
    if bk == "reference":
        return reference.rms_norm_backward(x, weight, rstd, dy)
    _check_arrays(bk, x=x, weight=weight, dy=dy)
    if rstd.dtype != np.float32 or not rstd.flags.c_contiguous:
        raise TypeError(f"rstd: expected a contiguous float32 array, got {rstd.dtype}")
    t = _suffix("x", x)
    groups = min(rows, 256)
    partial = bk.empty((groups, cols), np.float32)
    dx = bk.empty(x.shape, x.dtype)
    dw = bk.empty(weight.shape, weight.dtype)
    threads = _row_threads(cols)
    bk.launch("rms_norm", f"rms_norm_bwd_{t}", (groups,), (threads,),
              [x, weight, rstd, dy, dx, partial, np.int32(rows), np.int32(cols)])
    bk.launch("rms_norm", f"rms_norm_dw_{t}", (math.ceil(cols / 128),), (128,),
              [partial, dw, np.int32(groups), np.int32(cols)])
    return dx, dw
