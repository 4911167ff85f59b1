"""GPU-kernel tests. Without a GPU they run the CUDA source through the CPU emulator (g++ and
the CUDA headers, present on CI); `-m gpu_full` adds the full shape matrix (make gpu-check) and
the `cuda` tests need CuPy and a device."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the full matrix unless the marker expression names it (as make gpu-check does)."""
    if "gpu_full" in (config.getoption("-m") or ""):
        return
    keep = [item for item in items if item.get_closest_marker("gpu_full") is None]
    dropped = [item for item in items if item.get_closest_marker("gpu_full") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def emulator() -> None:
    """Skips when the emulator's toolchain (g++ or the CUDA headers) is genuinely missing."""
    from corpuskit.gpu.emulate.build import find_compiler, find_cuda_include

    if find_compiler() is None:
        pytest.skip("no g++: the CPU emulator needs a C++20 compiler")
    if find_cuda_include() is None:
        pytest.skip("no CUDA headers (cuda_bf16.h): set CORPUSKIT_CUDA_INCLUDE")
