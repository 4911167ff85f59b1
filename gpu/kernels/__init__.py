"""CUDA sources of corpuskit.gpu, one file per kernel family, and the kernels each file exports.

`KERNELS` is the single list of what the wrappers launch: the emulator builds an entry point for
each name, the nvcc check compiles each file and expects exactly these symbols.
"""

from __future__ import annotations

from pathlib import Path

KERNEL_DIR = Path(__file__).resolve().parent

DTYPES = ("f32", "bf16")
HEAD_DIMS = (32, 64, 128)

KERNELS: dict[str, tuple[str, ...]] = {
    "softmax": tuple(f"softmax_{d}_{t}" for t in DTYPES for d in ("fwd", "bwd")),
    "cross_entropy": tuple(f"cross_entropy_{t}" for t in DTYPES),
    "rms_norm": tuple(f"rms_norm_{d}_{t}" for t in DTYPES for d in ("fwd", "bwd", "dw")),
    "attention": tuple(
        f"attn_{kind}_d{d}_{t}" for t in DTYPES for d in HEAD_DIMS for kind in ("fwd", "bwd_dkdv", "bwd_dq")
    )
    + tuple(f"attn_bwd_pre_{t}" for t in DTYPES),
}

# Tile sizes (BM query rows, BN key rows) per head dim, as attention.cu's CK_*_TILES_* macros
# set them; launches use them for the grid and the shared-memory size (the emulator checks both).
ATTENTION_TILES: dict[str, dict[int, tuple[int, int]]] = {
    "fwd": {32: (64, 64), 64: (64, 64), 128: (64, 32)},
    "bwd_dkdv": {32: (64, 64), 64: (64, 64), 128: (64, 32)},
    "bwd_dq": {32: (64, 64), 64: (64, 64), 128: (32, 64)},
}

# Macros every compilation (NVRTC through CuPy, nvcc checks) passes. CuPy's bundled fp16
# headers clash with cuda_bf16.h's conversion operators; we use only the explicit functions.
DEFINES = ("-D__CUDA_NO_HALF_CONVERSIONS__", "-D__CUDA_NO_BFLOAT16_CONVERSIONS__")


def attention_shared_bytes(kind: str, head_dim: int) -> int:
    """Dynamic shared memory (bytes) of one attention block, as the kernel's *Smem structs count it."""
    bm, bn = ATTENTION_TILES[kind][head_dim]
    ld = head_dim + 1
    if kind == "fwd":
        floats = bm * ld + bn * ld + bn * head_dim + bm * (bn + 1) + 3 * bm
    elif kind == "bwd_dkdv":
        floats = 2 * bn * ld + 2 * bm * ld + 2 * bn * (bm + 1) + 2 * bm
    else:
        floats = 2 * bm * ld + 2 * bn * ld + bm * (bn + 1) + 2 * bm
    return 4 * floats


def kernel_path(family: str) -> Path:
    """The `.cu` file of a kernel family (`softmax`, `attention`, ...)."""
    if family not in KERNELS:
        raise KeyError(f"unknown kernel family {family!r}; expected one of {sorted(KERNELS)}")
    return KERNEL_DIR / f"{family}.cu"


def inline_source(family: str) -> str:
    """The family's source with our `#include "x.cuh"` lines replaced by the header's text.

    CuPy keys its compile cache on the source text, so inlining makes an edited header a new key.
    """
    out = []
    for line in kernel_path(family).read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith('#include "') and stripped.endswith('.cuh"'):
            header = KERNEL_DIR / stripped[len('#include "') : -1]
            out.append(header.read_text())
        else:
            out.append(line)
    return "\n".join(out) + "\n"
