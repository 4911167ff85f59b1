"""Loads an emulated kernel library with ctypes and launches its kernels on NumPy arrays.

Arguments are passed as CUDA passes them: NumPy arrays become pointers to their data, NumPy
scalars (np.int32, np.float32, np.int64, ...) are passed by value with their exact width, None
is a null pointer. `sanitize=True` replays each launch in the ThreadSanitizer driver instead and
raises RaceReported when TSan reports a data race.
"""

from __future__ import annotations

import ctypes
import os
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpuskit.gpu.emulate.build import build_driver, build_library
from corpuskit.gpu.kernels import KERNELS, kernel_path


class EmulatorError(RuntimeError):
    """A kernel misbehaved under the emulator (bad launch, divergent barriers, too little shared memory)."""


class RaceReported(EmulatorError):
    """ThreadSanitizer reported a data race in an emulated launch; the message holds its report."""


class _Launch(ctypes.Structure):
    _fields_ = [
        ("grid", ctypes.c_uint * 3),
        ("block", ctypes.c_uint * 3),
        ("shared_bytes", ctypes.c_ulonglong),
        ("seed", ctypes.c_ulonglong),
    ]


def _dims(value: int | Sequence[int]) -> tuple[int, int, int]:
    dims = (value,) if isinstance(value, int) else tuple(value)
    if not 1 <= len(dims) <= 3 or any(int(d) < 1 for d in dims):
        raise ValueError(f"launch dimensions must be 1 to 3 positive integers, got {value!r}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))  # type: ignore[return-value]


class EmulatedModule:
    """One kernel file built for the CPU. `family` names a file of gpu/kernels; `source` and
    `kernels` build any other .cu file (the planted-race test uses this)."""

    def __init__(
        self,
        family: str | None = None,
        *,
        source: Path | None = None,
        kernels: Sequence[str] | None = None,
        sanitize: bool = False,
    ) -> None:
        if family is not None:
            source, kernels = kernel_path(family), KERNELS[family]
        if source is None or not kernels:
            raise ValueError("give a kernel family, or a source file and its kernel names")
        self.source = Path(source)
        self.kernels = tuple(kernels)
        self.sanitize = sanitize
        self.library = build_library(self.source, self.kernels, sanitize=sanitize)
        self._lib = None if sanitize else ctypes.CDLL(str(self.library))
        if self._lib is not None:
            self._lib.emu_last_error.restype = ctypes.c_char_p

    def launch(
        self,
        name: str,
        grid: int | Sequence[int],
        block: int | Sequence[int],
        args: Sequence[object],
        shared_bytes: int = 0,
        seed: int = 0,
    ) -> None:
        """Runs kernel `name` over `grid` blocks of `block` threads; seed != 0 shuffles block order."""
        if name not in self.kernels:
            raise KeyError(f"{self.source.name} exports no kernel {name!r}; it has {self.kernels}")
        cfg = _Launch(_dims(grid), _dims(block), int(shared_bytes), int(seed))
        for a in args:
            if isinstance(a, np.ndarray) and not a.flags.c_contiguous:
                raise ValueError(f"{name}: array arguments must be C-contiguous")
        if self.sanitize:
            self._launch_tsan(name, cfg, args)
            return
        holders: list[object] = []
        pointers = (ctypes.c_void_p * max(1, len(args)))()
        for i, a in enumerate(args):
            if a is None or isinstance(a, np.ndarray):
                holder: object = ctypes.c_void_p(None if a is None else a.ctypes.data)
            elif isinstance(a, np.generic):
                holder = ctypes.create_string_buffer(a.tobytes(), a.nbytes)
            else:
                raise TypeError(f"{name}: argument {i} must be an ndarray, a NumPy scalar or None, got {type(a).__name__}")
            holders.append(holder)
            pointers[i] = ctypes.cast(ctypes.pointer(holder), ctypes.c_void_p)  # type: ignore[arg-type]
        entry = getattr(self._lib, f"emu_launch_{name}")
        entry.restype = ctypes.c_int
        if entry(ctypes.byref(cfg), pointers) != 0:
            raise EmulatorError(self._lib.emu_last_error().decode())  # type: ignore[union-attr]

    def _launch_tsan(self, name: str, cfg: _Launch, args: Sequence[object]) -> None:
        """Writes the launch to a script, replays it in the TSan driver, copies buffers back."""
        buffers: list[np.ndarray] = []
        index: dict[int, int] = {}
        arg_bytes = b""
        for a in args:
            if a is None:
                arg_bytes += struct.pack("<B", 1)
            elif isinstance(a, np.ndarray):
                if id(a) not in index:
                    index[id(a)] = len(buffers)
                    buffers.append(a)
                arg_bytes += struct.pack("<BI", 0, index[id(a)])
            elif isinstance(a, np.generic):
                arg_bytes += struct.pack("<BI", 2, a.nbytes) + a.tobytes()
            else:
                raise TypeError(f"{name}: unsupported argument {type(a).__name__}")
        script = struct.pack("<I", len(name)) + name.encode() + bytes(cfg)
        script += struct.pack("<I", len(buffers))
        for b in buffers:
            script += struct.pack("<Q", b.nbytes) + b.tobytes()
        script += struct.pack("<I", len(args)) + arg_bytes
        driver = build_driver()
        with tempfile.TemporaryDirectory(prefix="corpuskit-tsan-") as tmp:
            script_path, result_path = Path(tmp) / "launch.bin", Path(tmp) / "result.bin"
            script_path.write_bytes(script)
            env = dict(os.environ, TSAN_OPTIONS="halt_on_error=0 exitcode=66 history_size=4")
            proc = subprocess.run(
                [str(driver), str(self.library), str(script_path), str(result_path)],
                capture_output=True, text=True, env=env,
            )
            if "WARNING: ThreadSanitizer: data race" in proc.stderr:
                raise RaceReported(f"{name}: ThreadSanitizer reported a data race:\n{proc.stderr[-6000:]}")
            if "ThreadSanitizer" in proc.stderr or proc.returncode == 66:
                raise EmulatorError(f"{name}: ThreadSanitizer reported or failed:\n{proc.stderr[-4000:]}")
            if proc.returncode != 0:
                raise EmulatorError(f"{name}: TSan driver failed (exit {proc.returncode}): {proc.stderr[-4000:]}")
            data = result_path.read_bytes()
        offset = 0
        for b in buffers:
            flat = b.reshape(-1).view(np.uint8)
            flat[:] = np.frombuffer(data, dtype=np.uint8, count=b.nbytes, offset=offset)
            offset += b.nbytes
