"""The one place where the model's non-matmul layers get their implementation.

`TransformerLM` never calls a kernel directly: it calls `self.ops.<layer>(...)`, and `get_ops(name)`
chooses the implementation: `"numba"` (the CPU fast path, `kernels.py`) or `"reference"` (plain
NumPy, dtype-generic: what the finite-difference tests run in float64), `"gpu"` / `"gpu-emulate"`
(`gpu_ops.GpuOps`: one more class with the same methods, wrapping `corpuskit.gpu.ops`, whose
attention takes (B, H, T, D): the adapter transposes; `xp = cupy`, or NumPy for the emulator); matmuls stay in the model as 2-D
`xp` matmuls, so they go to BLAS on the CPU and cuBLAS on the GPU.

Layouts: rows (N, C) for norms, MLP and loss (SwiGLU takes [gate | up] as one (N, 2F) array);
(B, T, H, D) for RoPE and attention.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np

from corpuskit.lm.transformer import reference as ref


def prefer_workqueue() -> None:
    """Choose numba's "workqueue" threading layer unless the user chose one (NUMBA_THREADING_LAYER).

    GNU OpenMP's idle workers spin, and so do OpenBLAS's: alternating numba kernels and BLAS
    matmuls on the same cores then costs ~20 ms a call on a loaded 2-core machine (measured: a tiny
    model's training step 2 s with "omp", 10 ms with "workqueue"). Takes effect only if no numba
    parallel kernel has run yet in this process, hence its call at import time.
    """
    if "NUMBA_THREADING_LAYER" in os.environ:
        return
    os.environ["NUMBA_THREADING_LAYER"] = "workqueue"
    if "numba" in sys.modules:
        sys.modules["numba"].config.THREADING_LAYER = "workqueue"


prefer_workqueue()


class ReferenceOps:
    """Plain NumPy layers (any float dtype). Attention memory grows with Tq·Tk."""

    name = "reference"
    xp: Any = np

    def rms_norm_forward(self, x: np.ndarray, w: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
        return ref.rms_norm_forward(x, w, eps)

    def rms_norm_backward(self, x: np.ndarray, w: np.ndarray, rstd: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ref.rms_norm_backward(x, w, rstd, dy)

    def rope(self, x: np.ndarray, positions: np.ndarray, cos: np.ndarray, sin: np.ndarray, inverse: bool = False) -> np.ndarray:
        return ref.rope(x, positions, cos, sin, inverse)

    def attention_forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool, key_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return ref.attention_forward(q, k, v, causal, None, key_mask)

    def attention_backward(self, q, k, v, o, lse, do, causal: bool, key_mask):  # type: ignore[no-untyped-def]
        return ref.attention_backward(q, k, v, o, lse, do, causal, None, key_mask)

    def swiglu_forward(self, gu: np.ndarray) -> np.ndarray:
        return ref.swiglu_forward(gu)

    def swiglu_backward(self, gu: np.ndarray, ds: np.ndarray) -> np.ndarray:
        return ref.swiglu_backward(gu, ds)

    def cross_entropy(self, logits: np.ndarray, targets: np.ndarray, count: int, ignore_index: int = -100) -> tuple[float, np.ndarray]:
        """Summed loss of these rows and their gradient scaled by 1/count (count: valid rows of the whole batch)."""
        mean, grad = ref.cross_entropy(logits, targets, ignore_index)
        here = int(np.sum(targets != ignore_index))
        return mean * here, grad * (here / count) if here else grad

    def log_softmax(self, logits: np.ndarray) -> np.ndarray:
        x = logits.astype(np.float64)
        m = x.max(axis=1, keepdims=True)
        return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))

    def embedding_backward(self, ids: np.ndarray, dx: np.ndarray, dwte: np.ndarray) -> None:
        np.add.at(dwte, ids, dx)

    def sum_squares(self, x: np.ndarray) -> float:
        return float(np.dot(x.astype(np.float64), x.astype(np.float64)))

    def adamw_step(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step) -> None:  # type: ignore[no-untyped-def]
        ref.adamw_step(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step)


class NumbaOps(ReferenceOps):
    """The CPU fast path: numba kernels (float32) for every layer that is not a matmul."""

    name = "numba"

    def __init__(self) -> None:
        from corpuskit.lm.transformer import kernels

        self.k = kernels

    def rms_norm_forward(self, x, w, eps):  # type: ignore[no-untyped-def]
        y = np.empty_like(x)
        rstd = np.empty(x.shape[0], dtype=x.dtype)
        self.k.rms_norm_forward(x, w, eps, y, rstd)
        return y, rstd

    def rms_norm_backward(self, x, w, rstd, dy):  # type: ignore[no-untyped-def]
        dx = np.empty_like(x)
        partial = np.empty((min(self.k.CHUNKS, max(1, x.shape[0])), x.shape[1]), dtype=np.float32)
        self.k.rms_norm_backward(x, w, rstd, dy, dx, partial)
        return dx, partial.sum(axis=0).astype(w.dtype)

    def rope(self, x, positions, cos, sin, inverse=False):  # type: ignore[no-untyped-def]
        out = np.empty_like(x)
        self.k.rope(x, positions, cos, sin, -1.0 if inverse else 1.0, out)
        return out

    def attention_forward(self, q, k, v, causal, key_mask):  # type: ignore[no-untyped-def]
        bsz, tq, hq, d = q.shape
        o = np.empty_like(q)
        lse = np.empty((bsz, hq, tq), dtype=np.float32)
        mask = key_mask if key_mask is not None else np.ones((bsz, 1), dtype=np.bool_)
        self.k.attention_forward(q, k, v, causal, np.float32(1.0 / math.sqrt(d)), mask, key_mask is not None, o, lse)
        return o, lse

    def attention_backward(self, q, k, v, o, lse, do, causal, key_mask):  # type: ignore[no-untyped-def]
        dq = np.empty_like(q)
        dk = np.zeros_like(k)
        dv = np.zeros_like(v)
        mask = key_mask if key_mask is not None else np.ones((q.shape[0], 1), dtype=np.bool_)
        scale = np.float32(1.0 / math.sqrt(q.shape[-1]))
        self.k.attention_backward(q, k, v, o, lse, do, causal, scale, mask, key_mask is not None, dq, dk, dv)
        return dq, dk, dv

    def swiglu_forward(self, gu):  # type: ignore[no-untyped-def]
        out = np.empty((gu.shape[0], gu.shape[1] // 2), dtype=gu.dtype)
        self.k.swiglu_forward(gu, out)
        return out

    def swiglu_backward(self, gu, ds):  # type: ignore[no-untyped-def]
        dgu = np.empty_like(gu)
        self.k.swiglu_backward(gu, ds, dgu)
        return dgu

    def cross_entropy(self, logits, targets, count, ignore_index=-100):  # type: ignore[no-untyped-def]
        """As ReferenceOps.cross_entropy, but the gradient overwrites `logits` (no second (N, V) buffer)."""
        losses = np.empty(logits.shape[0], dtype=np.float64)
        self.k.cross_entropy(logits, targets.astype(np.int64, copy=False), ignore_index, max(count, 1), losses)
        return float(losses.sum()), logits

    def log_softmax(self, logits):  # type: ignore[no-untyped-def]
        out = np.empty(logits.shape, dtype=np.float64)
        self.k.log_softmax_rows(logits, out)
        return out

    def embedding_backward(self, ids, dx, dwte):  # type: ignore[no-untyped-def]
        self.k.embedding_backward(ids, dx, dwte)

    def sum_squares(self, x):  # type: ignore[no-untyped-def]
        return float(self.k.sum_squares(x))

    def adamw_step(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step):  # type: ignore[no-untyped-def]
        self.k.adamw_step(p, g, m, v, float(lr), float(beta1), float(beta2), float(eps), float(weight_decay), int(step))


def get_ops(name: str = "numba") -> ReferenceOps:
    """The layer implementations called `name`: "numba" (CPU fast path), "reference" (NumPy, any dtype),
    "gpu" (corpuskit.gpu kernels on CuPy arrays) or "gpu-emulate" (the same code, NumPy arrays, the
    kernels' CUDA source run on the CPU: see gpu_ops.py)."""
    if name == "numba":
        return NumbaOps()
    if name == "reference":
        return ReferenceOps()
    if name in ("gpu", "gpu-emulate"):
        from corpuskit.lm.transformer.gpu_ops import GpuOps

        return GpuOps("cupy" if name == "gpu" else "emulate")
    raise ValueError(f"unknown ops backend {name!r}; expected 'numba', 'reference', 'gpu' or 'gpu-emulate'")
