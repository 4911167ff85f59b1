"""Where kernels run: `CupyBackend` (the GPU, through cupy.RawModule) and `EmulateBackend` (the
same .cu source on the CPU). Both expose one small surface, so `ops` launches every kernel
through one code path: `xp` (the array module), `empty`, `launch`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.gpu.kernels import DEFINES, KERNELS, inline_source

# NVRTC options for CuPy (CuPy picks -arch itself and rejects one passed here).
CUPY_OPTIONS = ("--std=c++17", *DEFINES)
MAX_DEFAULT_SHARED = 48 * 1024


def cupy_include_options() -> tuple[str, ...]:
    """-I options for the CUDA headers our kernels include (cuda_bf16.h): NVRTC has no built-in
    copy, so we name the folder the emulator finds and the one CuPy's own CUDA path holds."""
    from corpuskit.gpu.emulate.build import find_cuda_include

    folders = []
    found = find_cuda_include()
    if found is not None:
        folders.append(str(found))
    try:
        from cupy import _environment

        cuda_path = _environment.get_cuda_path()
    except Exception:  # an older CuPy without the helper, or no CUDA path at all
        cuda_path = None
    if cuda_path:
        include = Path(cuda_path) / "include"
        if (include / "cuda_bf16.h").is_file() and str(include) not in folders:
            folders.append(str(include))
    return tuple(f"-I{folder}" for folder in folders)


class CupyBackend:
    """Runs kernels on the current CUDA device. Each kernel file is compiled once per process
    (and cached on disk by CuPy, under $CUPY_CACHE_DIR)."""

    name = "cupy"

    def __init__(self) -> None:
        import cupy

        self.xp = cupy

    def empty(self, shape: Sequence[int], dtype: Any) -> Any:
        return self.xp.empty(tuple(shape), dtype=dtype)

    def launch(
        self,
        family: str,
        kernel: str,
        grid: tuple[int, ...],
        block: tuple[int, ...],
        args: Sequence[object],
        shared_bytes: int = 0,
    ) -> None:
        function = cupy_function(family, kernel)
        if shared_bytes > MAX_DEFAULT_SHARED and function.max_dynamic_shared_size_bytes < shared_bytes:
            function.max_dynamic_shared_size_bytes = shared_bytes
        function(tuple(grid), tuple(block), tuple(args), shared_mem=shared_bytes)


@functools.lru_cache(maxsize=None)
def cupy_module(family: str) -> Any:
    """The compiled RawModule of a kernel family (one per process)."""
    import cupy

    return cupy.RawModule(code=inline_source(family), options=CUPY_OPTIONS + cupy_include_options())


@functools.lru_cache(maxsize=None)
def cupy_function(family: str, kernel: str) -> Any:
    if kernel not in KERNELS[family]:
        raise KeyError(f"{family}.cu has no kernel {kernel!r}")
    return cupy_module(family).get_function(kernel)


class EmulateBackend:
    """Runs kernels on the CPU through the emulator. Outputs it allocates are NaN-filled, so an
    element a kernel forgets to write fails the comparison. block_seed != 0 runs every launch's
    blocks in a shuffled order; sanitize=True replays every launch under ThreadSanitizer."""

    name = "emulate"

    def __init__(self, block_seed: int = 0, sanitize: bool = False) -> None:
        self.xp = np
        self.block_seed = block_seed
        self.sanitize = sanitize

    def empty(self, shape: Sequence[int], dtype: Any) -> np.ndarray:
        out = np.empty(tuple(shape), dtype=dtype)
        if np.issubdtype(out.dtype, np.integer):
            out.fill(np.iinfo(out.dtype).min)
        else:
            out.fill(np.nan)
        return out

    def launch(
        self,
        family: str,
        kernel: str,
        grid: tuple[int, ...],
        block: tuple[int, ...],
        args: Sequence[object],
        shared_bytes: int = 0,
    ) -> None:
        emulated_module(family, self.sanitize).launch(kernel, grid, block, args, shared_bytes, seed=self.block_seed)


@functools.lru_cache(maxsize=None)
def emulated_module(family: str, sanitize: bool) -> Any:
    from corpuskit.gpu.emulate import EmulatedModule

    return EmulatedModule(family, sanitize=sanitize)
