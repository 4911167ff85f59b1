"""Every kernel file compiles with nvcc for sm_80 and sm_90 with the wrapper's macros, no
warnings, no spills, no local memory, exports exactly the kernels ops launches, and fits the
launch configuration (at least one resident block per SM)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from corpuskit.gpu.kernels import KERNELS
from corpuskit.gpu.resources import LIMITS, compile_report, find_nvcc, launch_config, occupancy, parse_ptxas

pytestmark = pytest.mark.skipif(find_nvcc() is None, reason="nvcc not on PATH (CUDA toolkit not installed)")


@pytest.mark.parametrize("family", sorted(KERNELS))
def test_kernel_file_compiles_without_spills(family: str) -> None:
    arches = ("sm_80", "sm_90")
    with ThreadPoolExecutor(max_workers=2) as pool:  # the two targets compile side by side
        reports = dict(zip(arches, pool.map(lambda arch: compile_report(family, arch), arches)))
    for arch, report in reports.items():
        assert set(report) == set(KERNELS[family]), arch
        for name, r in report.items():
            assert r.spill_stores == r.spill_loads == 0 and r.stack == 0, (arch, name)
            threads, dynamic = launch_config(name)
            blocks, _ = occupancy(LIMITS[arch], r.registers, r.static_shared + dynamic, threads)
            assert blocks >= 1, f"{name} cannot launch on {arch}: {r}, {dynamic} B dynamic shared memory"


def test_parse_ptxas_and_occupancy() -> None:
    text = (
        "ptxas info    : Function properties for k1\n"
        "    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\n"
        "ptxas info    : Used 128 registers, used 1 barriers, 128 bytes smem, 400 bytes cmem[0]\n"
    )
    (r,) = parse_ptxas(text).values()
    assert (r.name, r.registers, r.static_shared, r.stack, r.spill_stores) == ("k1", 128, 128, 8, 4)
    # 128 registers x 128 threads: 16 K registers a block, 4 blocks fill 64 K.
    assert occupancy(LIMITS["sm_90"], 128, 0, 128) == (4, 0.25)
    # 100 KB of shared memory: one block on sm_80 (164 KB), two on sm_90 (228 KB).
    assert occupancy(LIMITS["sm_80"], 32, 100 * 1024, 128)[0] == 1
    assert occupancy(LIMITS["sm_90"], 32, 100 * 1024, 128)[0] == 2
    assert occupancy(LIMITS["sm_80"], 32, 200 * 1024, 128) == (0, 0.0)


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_tensor_core_test_kernel_compiles(arch: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The wrapped mma.sync assembles for both targets (the test kernel is the one the emulator runs)."""
    import subprocess
    from pathlib import Path

    from corpuskit.gpu.kernels import DEFINES, KERNEL_DIR
    from corpuskit.gpu.resources import NVCC_FLAGS

    source = Path(__file__).resolve().parent / "kernels" / "mma_tile.cu"
    cmd = [find_nvcc(), f"-arch={arch}", *NVCC_FLAGS, *DEFINES, f"-I{KERNEL_DIR}", str(source),
           "-o", str(tmp_path / "mma.cubin")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "mma_tile" in parse_ptxas(proc.stdout + proc.stderr)
