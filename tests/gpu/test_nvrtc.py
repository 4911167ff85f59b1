"""The CuPy path without a GPU: every kernel file, as CupyBackend hands it to cupy.RawModule
(headers inlined, the same options, plus the -ftz=true and -arch CuPy adds itself), compiles
with NVRTC. Needs CuPy and libnvrtc (the nvidia-cuda-nvrtc wheel), not a device."""

from __future__ import annotations

import os

import pytest

from corpuskit.gpu.backends import CUPY_OPTIONS, cupy_include_options
from corpuskit.gpu.kernels import KERNELS, inline_source

cupy = pytest.importorskip("cupy", reason="CuPy not installed (the gpu extra)")


def _nvrtc_program():  # type: ignore[no-untyped-def]
    try:
        from cupy.cuda.compiler import _NVRTCProgram
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as exc:  # no libnvrtc on this machine
        pytest.skip(f"NVRTC not loadable: {type(exc).__name__}: {str(exc)[:200]}")
    return _NVRTCProgram


@pytest.mark.parametrize("arch", ["compute_90", pytest.param("compute_80", marks=pytest.mark.gpu_full)])
@pytest.mark.parametrize("family", sorted(KERNELS))
def test_kernel_file_compiles_with_nvrtc(family: str, arch: str) -> None:
    program = _nvrtc_program()
    include = os.path.join(os.path.dirname(cupy.__file__), "_core", "include")
    options = (*CUPY_OPTIONS, *cupy_include_options(), "-ftz=true", f"-arch={arch}",
               "--device-as-default-execution-space", f"-I{include}")
    ptx, _ = program(inline_source(family), "", (), (), method="ptx").compile(options)
    text = ptx.decode() if isinstance(ptx, bytes) else ptx
    for name in KERNELS[family]:
        assert f".entry {name}(" in text


def test_tensor_core_test_kernel_compiles_with_nvrtc() -> None:
    """The inline mma.sync assembly passes NVRTC as CuPy would compile it (compute_90)."""
    from pathlib import Path

    from corpuskit.gpu.kernels import KERNEL_DIR

    program = _nvrtc_program()
    source = Path(__file__).resolve().parent / "kernels" / "mma_tile.cu"
    code = source.read_text().replace('#include "common.cuh"', (KERNEL_DIR / "common.cuh").read_text())
    options = (*CUPY_OPTIONS, *cupy_include_options(), "-ftz=true", "-arch=compute_90",
               "--device-as-default-execution-space")
    ptx, _ = program(code, "", (), (), method="ptx").compile(options)
    text = ptx.decode() if isinstance(ptx, bytes) else ptx
    assert "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32" in text
