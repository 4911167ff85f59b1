"""Per-kernel registers, shared memory and occupancy: from nvcc's ptxas report (no GPU needed)
or from a live device through CuPy.

`compile_report(family, arch)` compiles one kernel file to a cubin with the macros the wrapper
uses, spills and local memory as errors, and parses ptxas' `--resource-usage` lines. Occupancy
is computed for the launch configuration ops uses (threads per block, dynamic shared memory).
Run `python -m corpuskit.gpu.resources` for the Markdown table in docs/gpu.md.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from corpuskit.gpu.kernels import DEFINES, KERNEL_DIR, KERNELS, attention_shared_bytes, kernel_path

NVCC_FLAGS = (
    "-cubin", "--resource-usage", "-std=c++17",
    "-Xptxas", "--warn-on-spills,--warn-on-local-memory-usage", "-Werror", "all-warnings",
)


@dataclass(frozen=True)
class SmLimits:
    """What one streaming multiprocessor offers (CUDA programming guide, compute capabilities)."""

    shared_per_sm: int
    shared_per_block: int
    registers: int = 65536
    threads: int = 2048
    blocks: int = 32
    reserved_shared_per_block: int = 1024


LIMITS = {
    "sm_80": SmLimits(shared_per_sm=164 * 1024, shared_per_block=163 * 1024),
    "sm_90": SmLimits(shared_per_sm=228 * 1024, shared_per_block=227 * 1024),
}


@dataclass(frozen=True)
class KernelResources:
    name: str
    registers: int
    static_shared: int
    stack: int
    spill_stores: int
    spill_loads: int


def launch_config(kernel: str) -> tuple[int, int]:
    """(threads per block, dynamic shared bytes) that ops launches `kernel` with; the row
    kernels (softmax, cross-entropy, RMSNorm) use 128 threads up to 2,048 columns."""
    m = re.match(r"attn_(fwd|bwd_dkdv|bwd_dq)_d(\d+)_", kernel)
    if m:
        return 128, attention_shared_bytes(m.group(1), int(m.group(2)))
    return 128, 0


def occupancy(limits: SmLimits, registers: int, shared_bytes: int, threads: int) -> tuple[int, float]:
    """Resident blocks per SM and the fraction of the SM's warps they fill (registers are
    allocated per warp in units of 256)."""
    warps = math.ceil(threads / 32)
    if shared_bytes > limits.shared_per_block:
        return 0, 0.0
    regs_per_warp = math.ceil(max(registers, 1) * 32 / 256) * 256
    by_regs = (limits.registers // regs_per_warp) // warps
    by_shared = limits.shared_per_sm // (shared_bytes + limits.reserved_shared_per_block)
    by_threads = limits.threads // threads
    blocks = min(limits.blocks, by_regs, by_shared, by_threads)
    return blocks, blocks * warps / (limits.threads // 32)


def find_nvcc() -> str | None:
    return shutil.which("nvcc")


class NvccError(RuntimeError):
    """nvcc rejected a kernel file (an error, a warning, a spill or local memory use)."""


_FUNCTION = re.compile(r"Function properties for (\w+)")
_STACK = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?")


def parse_ptxas(report: str) -> dict[str, KernelResources]:
    """Kernels and their resources from ptxas' --resource-usage output."""
    out: dict[str, KernelResources] = {}
    name = None
    stack = (0, 0, 0)
    for line in report.splitlines():
        if m := _FUNCTION.search(line):
            name = m.group(1)
        elif (m := _STACK.search(line)) and name:
            stack = tuple(int(g) for g in m.groups())  # type: ignore[assignment]
        elif (m := _USED.search(line)) and name:
            smem = int(m.group(2)) if m.group(2) else 0
            out[name] = KernelResources(name, int(m.group(1)), smem, *stack)
            name = None
    return out


def compile_report(family: str, arch: str, nvcc: str | None = None) -> dict[str, KernelResources]:
    """Compiles gpu/kernels/<family>.cu for `arch` (sm_80, sm_90) and returns each kernel's
    resources. Raises NvccError on any error, warning, spill or local-memory use."""
    nvcc = nvcc or find_nvcc()
    if nvcc is None:
        raise FileNotFoundError("nvcc not found on PATH")
    with tempfile.TemporaryDirectory(prefix="corpuskit-nvcc-") as tmp:
        cmd = [nvcc, f"-arch={arch}", *NVCC_FLAGS, *DEFINES, f"-I{KERNEL_DIR}",
               str(kernel_path(family)), "-o", str(Path(tmp) / f"{family}.cubin")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    report = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise NvccError(f"{' '.join(cmd)}\n{report[-6000:]}")
    return parse_ptxas(report)


def markdown_table(arches: tuple[str, ...] = ("sm_80", "sm_90")) -> str:
    """The per-kernel table of docs/gpu.md: registers, shared memory, blocks/SM and occupancy."""
    rows = ["| kernel | arch | registers | static smem | dynamic smem | threads | blocks/SM | occupancy |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for family in KERNELS:
        for arch in arches:
            report = compile_report(family, arch)
            for name in KERNELS[family]:
                r = report[name]
                threads, dynamic = launch_config(name)
                blocks, occ = occupancy(LIMITS[arch], r.registers, r.static_shared + dynamic, threads)
                rows.append(f"| {name} | {arch} | {r.registers} | {r.static_shared} | {dynamic} | {threads} "
                            f"| {blocks} | {occ:.0%} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
