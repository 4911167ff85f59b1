"""The CPU emulator itself: CUDA primitives, the build cache, error reports, ThreadSanitizer
(a planted missing barrier must be reported) and block-order independence of every kernel."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from corpuskit.gpu import ops
from corpuskit.gpu.backends import EmulateBackend
from corpuskit.gpu.emulate import EmulatedModule, EmulatorError, RaceReported
from corpuskit.gpu.emulate.build import build_library
from corpuskit.gpu.kernels import KERNEL_DIR, KERNELS, attention_shared_bytes

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.usefixtures("emulator")


def test_warp_and_block_primitives_match_cuda_semantics() -> None:
    module = EmulatedModule(source=HERE / "kernels" / "warp_ops.cu", kernels=["warp_ops"])
    blocks, threads = 2, 64
    out = np.full((blocks, threads, 8), -1, dtype=np.int32)
    sums = np.zeros(blocks, dtype=np.float32)
    counter = np.zeros(1, dtype=np.int32)
    module.launch("warp_ops", blocks, threads, [out, sums, counter], shared_bytes=threads * 4)
    tid = np.arange(threads)
    lane = tid % 32
    warp0 = tid - lane
    for b in range(blocks):
        o = out[b]
        np.testing.assert_array_equal(o[:, 0], (warp0 + 3) * 10)
        np.testing.assert_array_equal(o[:, 1], tid ^ 5)
        np.testing.assert_array_equal(o[:, 2], np.where(lane + 4 < 32, tid + 4, tid))
        np.testing.assert_array_equal(o[:, 3], np.where(lane >= 2, tid - 2, tid))
        ballot = sum(1 << i for i in range(32) if i % 3 == 0)
        np.testing.assert_array_equal(o[:, 4].view(np.uint32), np.uint32(ballot))
        np.testing.assert_array_equal(o[:, 5], (warp0 == 32).astype(int))  # tid 37 lives in warp 1
        np.testing.assert_array_equal(o[:, 6], 1)
        np.testing.assert_array_equal(o[:, 7], ((tid + 1) % threads) * 2)
    np.testing.assert_array_equal(sums, threads * (threads - 1) / 2)
    assert counter[0] == blocks * threads


def test_divergent_barrier_is_reported() -> None:
    module = EmulatedModule(source=HERE / "kernels" / "warp_ops.cu", kernels=["divergent_barrier"])
    with pytest.raises(EmulatorError, match="different numbers of __syncthreads"):
        module.launch("divergent_barrier", 1, 32, [np.zeros(32, dtype=np.int32)])


def test_too_little_shared_memory_is_reported() -> None:
    module = EmulatedModule("attention")
    q = np.zeros((1, 1, 5, 32), dtype=np.float32)
    o, lse = np.zeros_like(q), np.zeros((1, 1, 5), dtype=np.float32)
    args = [q, q, q, o, lse, np.zeros(1, np.uint8), np.int32(0), np.zeros(1, np.int32), np.int32(0),
            np.int32(1), np.int32(1), np.int32(1),
            np.int32(5), np.int32(5), np.float32(1.0), np.int32(1)]
    too_small = attention_shared_bytes("fwd", 32) - 4
    with pytest.raises(EmulatorError, match="dynamic shared memory"):
        module.launch("attn_fwd_d32_f32", (1, 1), 128, args, shared_bytes=too_small)
    with pytest.raises(EmulatorError, match="grid"):  # two query tiles where 5 rows need one
        module.launch("attn_fwd_d32_f32", (2, 1), 128, args, shared_bytes=too_small + 4)


def test_edited_kernel_is_rebuilt_not_served_stale(tmp_path: Path) -> None:
    source = tmp_path / "softmax.cu"
    shutil.copy(KERNEL_DIR / "softmax.cu", source)
    first = build_library(source, KERNELS["softmax"])
    source.write_text(source.read_text() + "\n// an edit\n")
    second = build_library(source, KERNELS["softmax"])
    assert first != second and first.exists() and second.exists()
    assert build_library(source, KERNELS["softmax"]) == second


def _planted_race_copy(tmp_path: Path) -> Path:
    """softmax.cu beside a common.cuh whose block_sum lost the barrier after writing scratch."""
    common = (KERNEL_DIR / "common.cuh").read_text()
    marker = "  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;\n  __syncthreads();\n  float total"
    assert marker in common, "block_sum changed: update the planted race"
    (tmp_path / "common.cuh").write_text(common.replace(marker, marker.replace("  __syncthreads();\n", "", 1)))
    shutil.copy(KERNEL_DIR / "softmax.cu", tmp_path / "softmax.cu")
    return tmp_path / "softmax.cu"


def test_tsan_reports_a_planted_missing_barrier(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((2, 200)).astype(np.float32)
    args = [x, np.empty_like(x), np.int32(200)]
    clean = EmulatedModule(source=KERNEL_DIR / "softmax.cu", kernels=["softmax_fwd_f32"], sanitize=True)
    clean.launch("softmax_fwd_f32", 2, 128, args)  # no report with the barrier in place
    racy = EmulatedModule(source=_planted_race_copy(tmp_path), kernels=["softmax_fwd_f32"], sanitize=True)
    with pytest.raises(RaceReported, match="data race"):
        racy.launch("softmax_fwd_f32", 2, 128, args)


def _all_kernels(backend: EmulateBackend) -> list[np.ndarray]:
    """One small run of every kernel family (attention with GQA, causal, a padding mask)."""
    rng = np.random.default_rng(3)
    f = np.float32
    q = rng.standard_normal((1, 4, 70, 32)).astype(f)
    k = rng.standard_normal((1, 2, 70, 32)).astype(f)
    v = rng.standard_normal((1, 2, 70, 32)).astype(f)
    mask = rng.random((1, 70)) > 0.3
    o, lse = ops.attention_forward(q, k, v, causal=True, key_padding_mask=mask, backend=backend)
    do = rng.standard_normal(q.shape).astype(f)
    grads = ops.attention_backward(q, k, v, o, lse, do, causal=True, key_padding_mask=mask, backend=backend)
    x = rng.standard_normal((9, 300)).astype(f)
    y = ops.softmax(x, backend=backend)
    dx = ops.softmax_backward(y, x, backend=backend)
    loss, dlogits = ops.cross_entropy(x, rng.integers(0, 300, 9), backend=backend)
    w = rng.standard_normal(300).astype(f)
    yn, rstd = ops.rms_norm_forward(x, w, backend=backend)
    dxn, dw = ops.rms_norm_backward(x, w, rstd, x, backend=backend)
    return [o, lse, *grads, y, dx, np.asarray(loss), dlogits, yn, rstd, dxn, dw]


def test_every_kernel_is_independent_of_block_order() -> None:
    in_order = _all_kernels(EmulateBackend())
    shuffled = _all_kernels(EmulateBackend(block_seed=20261129))
    for a, b in zip(in_order, shuffled):
        assert a.tobytes() == b.tobytes()


def _mma_inputs() -> tuple[np.ndarray, ...]:
    import ml_dtypes

    rng = np.random.default_rng(9)
    a = rng.standard_normal((16, 16)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((16, 8)).astype(ml_dtypes.bfloat16)
    c = rng.standard_normal((16, 8)).astype(np.float32)
    expected = a.astype(np.float64) @ b.astype(np.float64) + c
    return a, b, c, expected


def test_tensor_core_twin_follows_the_ptx_fragment_layout() -> None:
    """mma.sync m16n8k16 bf16 on the CPU: a warp building fragments by the PTX layout gets A·B + C."""
    a, b, c, expected = _mma_inputs()
    module = EmulatedModule(source=HERE / "kernels" / "mma_tile.cu", kernels=["mma_tile"])
    d = np.full((16, 8), np.nan, dtype=np.float32)
    module.launch("mma_tile", 1, 32, [a, b, c, d])
    np.testing.assert_allclose(d, expected, rtol=1e-5, atol=1e-5)
