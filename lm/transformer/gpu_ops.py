"""The GPU path's layers: attention, cross-entropy and RMSNorm from `corpuskit.gpu.ops`, the rest in `xp`.

`GpuOps(backend="cupy")` runs on CuPy arrays (`xp = cupy`): attention, the fused cross-entropy and
RMSNorm are our CUDA kernels; RoPE, SwiGLU, log-softmax, the embedding gradient and AdamW are
plain `xp` array expressions (no numba, no host-only NumPy call), so the same code runs on the
device. `GpuOps(backend="emulate")` is the same code with `xp = numpy` and the kernels' own CUDA
source executed on the CPU by `corpuskit.gpu`'s emulator: what CI runs to check this path against
the numba one without a GPU.

The model keeps attention in (B, T, H, D) (rows of `qkv` reshaped, no copy); `corpuskit.gpu.ops`
wants (B, H, T, D), so the adapter transposes in and out (one copy each way, O(B·T·H·D)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from corpuskit.lm.transformer.ops import ReferenceOps


def _array_module(backend: str) -> Any:
    if backend == "cupy":
        try:
            import cupy
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError("the GPU ops (backend 'cupy') need CuPy: pip install cupy-cuda13x (or cupy-cuda12x)") from exc
        return cupy
    if backend == "emulate":
        return np
    raise ValueError(f"GpuOps backend must be 'cupy' or 'emulate', got {backend!r}")


class GpuOps(ReferenceOps):
    """Layers of the GPU path; `backend` is "cupy" (device arrays) or "emulate" (NumPy, CUDA source run on the CPU).

    Kernel inputs must be float32 or bfloat16 and the head dim one the attention kernels have (32, 64, 128).
    """

    name = "gpu"

    def __init__(self, backend: str = "cupy") -> None:
        from corpuskit.gpu import ops as gops

        self.xp = _array_module(backend)
        self.backend = backend
        self.g = gops

    # -- corpuskit.gpu kernels ---------------------------------------------------------------------
    def _c(self, a: Any) -> Any:
        return self.xp.ascontiguousarray(a)

    def rms_norm_forward(self, x, w, eps):  # type: ignore[no-untyped-def]
        return self.g.rms_norm_forward(self._c(x), self._c(w), eps, backend=self.backend)

    def rms_norm_backward(self, x, w, rstd, dy):  # type: ignore[no-untyped-def]
        return self.g.rms_norm_backward(self._c(x), self._c(w), self._c(rstd), self._c(dy), backend=self.backend)

    def _bhtd(self, a: Any) -> Any:
        """(B, T, H, D) -> contiguous (B, H, T, D), and back (the same permutation is its own inverse)."""
        return self._c(a.transpose(0, 2, 1, 3))

    def attention_forward(self, q, k, v, causal, key_mask):  # type: ignore[no-untyped-def]
        mask = None if key_mask is None else self._c(self.xp.asarray(key_mask, dtype=bool))
        o, lse = self.g.attention_forward(self._bhtd(q), self._bhtd(k), self._bhtd(v), causal, None, mask, backend=self.backend)
        return self._bhtd(o), lse

    def attention_backward(self, q, k, v, o, lse, do, causal, key_mask):  # type: ignore[no-untyped-def]
        mask = None if key_mask is None else self._c(self.xp.asarray(key_mask, dtype=bool))
        dq, dk, dv = self.g.attention_backward(
            self._bhtd(q), self._bhtd(k), self._bhtd(v), self._bhtd(o), self._c(lse), self._bhtd(do), causal, None, mask,
            backend=self.backend,
        )
        return self._bhtd(dq), self._bhtd(dk), self._bhtd(dv)

    def cross_entropy(self, logits, targets, count, ignore_index=-100):  # type: ignore[no-untyped-def]
        """Summed loss of these rows (a host float: one sync per call) and the gradient scaled by 1/count."""
        xp = self.xp
        t = xp.asarray(targets, dtype=xp.int64)
        here = int((t != ignore_index).sum())
        mean, grad = self.g.cross_entropy(self._c(logits), t, ignore_index, backend=self.backend)
        if here:
            grad *= grad.dtype.type(here / max(count, 1))
        return float(mean) * here, grad

    # -- xp array expressions (NumPy on the CPU, CuPy on the GPU) ------------------------------------
    def rope(self, x, positions, cos, sin, inverse=False):  # type: ignore[no-untyped-def]
        xp = self.xp
        half = x.shape[-1] // 2
        pos = xp.asarray(positions)
        c = xp.asarray(cos)[pos][:, :, None, :].astype(x.dtype)  # (B, T, 1, D/2)
        s = xp.asarray(sin)[pos][:, :, None, :].astype(x.dtype)
        if inverse:
            s = -s
        x1, x2 = x[..., :half], x[..., half:]
        out = xp.empty(x.shape, dtype=x.dtype)
        out[..., :half] = x1 * c - x2 * s
        out[..., half:] = x2 * c + x1 * s
        return out

    def swiglu_forward(self, gu):  # type: ignore[no-untyped-def]
        xp = self.xp
        f = gu.shape[1] // 2
        g, u = gu[:, :f], gu[:, f:]
        return g / (1.0 + xp.exp(-g)) * u

    def swiglu_backward(self, gu, ds):  # type: ignore[no-untyped-def]
        xp = self.xp
        f = gu.shape[1] // 2
        g, u = gu[:, :f], gu[:, f:]
        sig = 1.0 / (1.0 + xp.exp(-g))
        out = xp.empty(gu.shape, dtype=gu.dtype)
        out[:, :f] = ds * u * sig * (1.0 + g * (1.0 - sig))
        out[:, f:] = ds * g * sig
        return out

    def log_softmax(self, logits):  # type: ignore[no-untyped-def]
        xp = self.xp
        x = logits.astype(xp.float64)
        m = x.max(axis=1, keepdims=True)
        return x - m - xp.log(xp.exp(x - m).sum(axis=1, keepdims=True))

    def embedding_backward(self, ids, dx, dwte):  # type: ignore[no-untyped-def]
        xp = self.xp
        idx = xp.asarray(ids)
        if xp is np:
            np.add.at(dwte, idx, dx)
        else:
            import cupyx

            cupyx.scatter_add(dwte, idx, dx)

    def sum_squares(self, x):  # type: ignore[no-untyped-def]
        x64 = x.astype(self.xp.float64)
        return float(self.xp.dot(x64, x64))

    def adamw_step(self, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step):  # type: ignore[no-untyped-def]
        """One AdamW update in place (decoupled weight decay, bias-corrected moments); fp32 throughout."""
        xp = self.xp
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        mhat = m / (1 - beta1**step)
        vhat = v / (1 - beta2**step)
        p -= (lr * (mhat / (xp.sqrt(vhat) + eps) + weight_decay * p)).astype(p.dtype)
