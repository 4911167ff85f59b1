"""AdamW over the model's flat parameter buffer, the warm-up + cosine schedule, and thread control."""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import numpy as np

from corpuskit.lm.transformer.model import ParamStore
from corpuskit.lm.transformer.ops import ReferenceOps


def lr_at(step: int, lr: float, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay to lr · min_ratio at `total` (step counts from 0)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if total <= warmup:
        return lr
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


@dataclass
class AdamW:
    """Decoupled weight decay on matrices only (norm weights and biases are not decayed). State: two moments."""

    params: ParamStore
    ops: ReferenceOps
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    weight_decay: float = 0.1
    step_count: int = 0

    def __post_init__(self) -> None:
        self.m = self.ops.xp.zeros_like(self.params.data)  # xp: NumPy, or CuPy on the GPU path
        self.v = self.ops.xp.zeros_like(self.params.data)

    def step(self, lr: float) -> None:
        self.step_count += 1
        cut = self.params.decay_size
        p, g = self.params.data, self.params.grad
        self.ops.adamw_step(p[:cut], g[:cut], self.m[:cut], self.v[:cut], lr, self.beta1, self.beta2, self.eps, self.weight_decay, self.step_count)
        if cut < p.size:
            self.ops.adamw_step(p[cut:], g[cut:], self.m[cut:], self.v[cut:], lr, self.beta1, self.beta2, self.eps, 0.0, self.step_count)

    def clip(self, max_norm: float) -> float:
        """Scale gradients so their global L2 norm is at most max_norm (0: no clipping); returns the norm before."""
        norm = math.sqrt(self.ops.sum_squares(self.params.grad))
        if max_norm > 0 and norm > max_norm:
            self.params.grad *= np.float32(max_norm / (norm + 1e-6))
        return norm


def set_threads(n: int) -> None:
    """Use n threads in numba kernels and in OpenBLAS (0: leave the defaults)."""
    if n <= 0:
        return
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n, user_api="blas")
        return
    except ImportError:
        pass
    with open("/proc/self/maps", encoding="utf-8") as handle:
        libs = {line.split()[-1] for line in handle if "openblas" in line.lower() and ".so" in line}
    for lib in sorted(libs):
        handle = ctypes.CDLL(lib)
        for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(handle, name):
                getattr(handle, name)(ctypes.c_int(n))
                break
