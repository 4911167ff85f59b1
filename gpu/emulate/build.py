"""Builds a kernel file for the CPU emulator with g++ and caches the shared library.

The cache key is a hash of everything the build reads (the kernel source, the kernel folder's
headers, cuda_emu.h, the entry points, the compiler's version and flags), so an edited kernel is
never served from a stale build. Libraries appear atomically (temp name, then os.replace).

Where the CUDA headers come from (cuda_bf16.h, cuda_fp16.h; only headers, no nvcc): the
environment variable CORPUSKIT_CUDA_INCLUDE, then $CUDA_HOME/include and $CUDA_PATH/include,
then the include folder beside `nvcc` on PATH, then /usr/local/cuda/include and the newest
/usr/local/cuda-*/include, then /usr/include.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from corpuskit.gpu.kernels import KERNEL_DIR

EMULATE_DIR = Path(__file__).resolve().parent
HEADER = EMULATE_DIR / "cuda_emu.h"
DRIVER = EMULATE_DIR / "driver.cpp"
FLAGS = ("-std=c++20", "-O2", "-fPIC", "-pthread", "-fno-strict-aliasing")
TSAN_FLAGS = ("-fsanitize=thread", "-g", "-O1")


class EmulatorUnavailable(RuntimeError):
    """g++ or the CUDA headers are missing, so kernels cannot run on the CPU."""


class BuildError(RuntimeError):
    """g++ rejected a kernel file; the message carries the compiler's output."""


def find_cuda_include() -> Path | None:
    """The folder holding cuda_bf16.h (see the module docstring for the search order), or None."""
    candidates: list[Path] = []
    if os.environ.get("CORPUSKIT_CUDA_INCLUDE"):
        candidates.append(Path(os.environ["CORPUSKIT_CUDA_INCLUDE"]))
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            candidates.append(Path(os.environ[var]) / "include")
    nvcc = shutil.which("nvcc")
    if nvcc:
        candidates.append(Path(nvcc).resolve().parent.parent / "include")
    candidates.append(Path("/usr/local/cuda/include"))
    candidates += sorted(Path("/usr/local").glob("cuda-*/include"), reverse=True)
    candidates.append(Path("/usr/include"))
    for folder in candidates:
        if (folder / "cuda_bf16.h").is_file():
            return folder
    return None


def find_compiler() -> str | None:
    """The C++ compiler: $CXX, else g++ on PATH."""
    return os.environ.get("CXX") or shutil.which("g++")


def cache_dir() -> Path:
    """$CORPUSKIT_GPU_CACHE, else ~/.cache/corpuskit/gpu-emulate."""
    root = os.environ.get("CORPUSKIT_GPU_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "corpuskit" / "gpu-emulate"
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.lru_cache(maxsize=None)
def _compiler_version(cxx: str) -> str:
    return subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True).stdout


def _toolchain() -> tuple[str, Path]:
    cxx = find_compiler()
    if cxx is None:
        raise EmulatorUnavailable("no C++ compiler: install g++ (C++20) or set CXX")
    include = find_cuda_include()
    if include is None:
        raise EmulatorUnavailable(
            "no CUDA headers (cuda_bf16.h): install the CUDA toolkit's headers or set CORPUSKIT_CUDA_INCLUDE"
        )
    return cxx, include


def translation_unit(source: Path, kernels: Sequence[str]) -> str:
    """The C++ file g++ compiles: the header, the kernel file, one C entry point per kernel."""
    lines = ['#include "cuda_emu.h"', f'#include "{source.resolve()}"']
    for name in kernels:
        lines.append(
            f'extern "C" int emu_launch_{name}(const EmuLaunch* cfg, void** args) '
            f'{{ return emu::launch({name}, "{name}", cfg, args); }}'
        )
    return "\n".join(lines) + "\n"


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def _compile(cxx: str, args: list[str], output: Path) -> None:
    """Runs the compiler into a temp file beside `output`, then renames it into place."""
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=output.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        proc = subprocess.run([cxx, *args, "-o", tmp], capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"g++ failed building {output.name}:\n{proc.stderr[-8000:]}")
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def build_library(source: Path, kernels: Sequence[str], sanitize: bool = False) -> Path:
    """Compiles `source` (a .cu file) into a shared library with an entry point per kernel.

    sanitize=True builds with ThreadSanitizer (the library is then run by the TSan driver, not
    loaded into Python). Returns the cached library's path; compiles only on a cache miss.
    """
    cxx, include = _toolchain()
    source = Path(source)
    tu = translation_unit(source, kernels)
    headers = "".join(p.read_text() for p in sorted(KERNEL_DIR.glob("*.cuh")))
    flags = [*FLAGS, *(TSAN_FLAGS if sanitize else ())]
    key = _digest(tu, source.read_text(), headers, HEADER.read_text(), " ".join(flags), _compiler_version(cxx), str(include))
    output = cache_dir() / f"{source.stem}-{key}{'-tsan' if sanitize else ''}.so"
    if output.exists():
        return output
    tu_path = cache_dir() / f"{source.stem}-{key}.cpp"
    fd, tmp = tempfile.mkstemp(dir=tu_path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(tu)
    os.replace(tmp, tu_path)
    args = [*flags, "-shared", f"-I{EMULATE_DIR}", f"-I{KERNEL_DIR}", "-isystem", str(include), str(tu_path)]
    _compile(cxx, args, output)
    return output


def build_driver() -> Path:
    """The ThreadSanitizer driver executable that runs one recorded launch of a TSan library."""
    cxx, include = _toolchain()
    flags = ["-std=c++20", "-O1", "-g", "-fsanitize=thread", "-pthread"]
    key = _digest(DRIVER.read_text(), HEADER.read_text(), " ".join(flags), _compiler_version(cxx))
    output = cache_dir() / f"tsan-driver-{key}"
    if not output.exists():
        _compile(cxx, [*flags, f"-I{EMULATE_DIR}", "-isystem", str(include), str(DRIVER), "-ldl"], output)
    return output
