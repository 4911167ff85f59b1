"""`corpuskit gpu info`: the device, CuPy and CUDA versions, the compile caches, and each
kernel's registers, shared memory and occupancy. Works without a GPU (it then reports nvcc's
figures for --arch and the CPU emulator's toolchain). Only click is imported at module level."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.group()
def gpu() -> None:
    """CUDA kernels (CuPy) and their CPU emulator."""


def _device_lines() -> tuple[list[str], object | None]:
    """Lines about CuPy and the device, and the device's properties (None without one)."""
    try:
        import cupy
    except ImportError as exc:
        return [f"CuPy: not installed ({exc}); install the `gpu` extra"], None
    lines = [f"CuPy: {cupy.__version__}"]
    try:
        runtime = cupy.cuda.runtime
        lines.append(f"CUDA runtime: {runtime.runtimeGetVersion()}, driver: {runtime.driverGetVersion()}")
        props = runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        lines.append(
            f"device: {name}, compute capability {props['major']}.{props['minor']}, "
            f"{props['multiProcessorCount']} SMs, {props['totalGlobalMem'] / 2**30:.1f} GiB, "
            f"{props['sharedMemPerMultiprocessor'] // 1024} KiB shared memory per SM"
        )
        return lines, props
    except Exception as exc:  # no driver or no device: report, then go on without
        lines.append(f"device: none usable ({type(exc).__name__}: {exc})")
        return lines, None


@gpu.command("info")
@click.option("--arch", default="sm_90", show_default=True, help="nvcc target for the kernel table without a GPU.")
@click.option("--kernels/--no-kernels", default=True, show_default=True, help="Print the per-kernel table.")
def info(arch: str, kernels: bool) -> None:
    """Print the device, versions, caches and each kernel's resources.  Example: corpuskit gpu info"""
    from corpuskit.gpu.emulate.build import cache_dir, find_compiler, find_cuda_include
    from corpuskit.gpu.kernels import KERNELS
    from corpuskit.gpu.resources import LIMITS, SmLimits, compile_report, find_nvcc, launch_config, occupancy

    lines, props = _device_lines()
    for line in lines:
        click.echo(line)
    nvcc = find_nvcc()
    click.echo(f"nvcc: {nvcc or 'not found'}")
    click.echo(f"emulator: compiler {find_compiler() or 'not found'}, CUDA headers {find_cuda_include() or 'not found'}")
    click.echo(f"emulator cache: {cache_dir()}")
    cupy_cache = os.environ.get("CUPY_CACHE_DIR") or str(Path.home() / ".cupy" / "kernel_cache")
    click.echo(f"CuPy compile cache: {cupy_cache}")
    if not kernels:
        return
    if props is not None:
        from corpuskit.gpu.backends import cupy_function

        limits = SmLimits(
            shared_per_sm=int(props["sharedMemPerMultiprocessor"]),
            shared_per_block=int(props.get("sharedMemPerBlockOptin", props["sharedMemPerBlock"])),
            registers=int(props["regsPerMultiprocessor"]),
            threads=int(props["maxThreadsPerMultiProcessor"]),
        )
        source = "device (CuPy function attributes)"
        table = {}
        for family, names in KERNELS.items():
            for name in names:
                fn = cupy_function(family, name)
                table[name] = (fn.num_regs, fn.shared_size_bytes)
    elif nvcc is not None:
        limits = LIMITS[arch]
        source = f"nvcc {arch} (no device)"
        table = {}
        for family in KERNELS:
            for name, r in compile_report(family, arch, nvcc).items():
                table[name] = (r.registers, r.static_shared)
    else:
        click.echo("kernels: no device and no nvcc, so no resource figures")
        return
    click.echo(f"kernels ({source}):")
    click.echo(f"  {'kernel':<24} {'regs':>5} {'smem':>7} {'dyn smem':>9} {'threads':>7} {'blocks/SM':>9} {'occupancy':>9}")
    for name, (regs, smem) in table.items():
        threads, dynamic = launch_config(name)
        blocks, occ = occupancy(limits, regs, smem + dynamic, threads)
        click.echo(f"  {name:<24} {regs:>5} {smem:>7} {dynamic:>9} {threads:>7} {blocks:>9} {occ:>9.0%}")
