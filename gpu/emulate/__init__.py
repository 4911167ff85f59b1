"""Runs corpuskit's CUDA kernels on the CPU: the same `.cu` source, built with g++ against
`cuda_emu.h` (one std::thread per CUDA thread, std::barrier for __syncthreads)."""

from corpuskit.gpu.emulate.build import EmulatorUnavailable, find_cuda_include
from corpuskit.gpu.emulate.module import EmulatedModule, EmulatorError, RaceReported

__all__ = ["EmulatedModule", "EmulatorError", "EmulatorUnavailable", "RaceReported", "find_cuda_include"]
