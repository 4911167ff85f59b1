"""backend="cupy" on a GPU against the float64 reference and against the emulator on the same
inputs (make gpu-check). Skips without CuPy or without a CUDA device."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from corpuskit.gpu import ops
from corpuskit.gpu.reference import relative_error

cupy = pytest.importorskip("cupy", reason="CuPy not installed (the gpu extra)")


def _device_count() -> int:
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no driver, or a driver older than the CUDA runtime CuPy was built for
        return 0


pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(_device_count() == 0, reason="no usable CUDA device"),
]

ATTENTION = [  # (B, Hq, Hkv, Tq, Tk, D, causal, masked, dtype)
    (1, 1, 1, 1, 1, 32, True, False, np.float32),
    (2, 4, 2, 129, 129, 64, True, True, np.float32),
    (1, 4, 1, 300, 300, 128, False, True, ml_dtypes.bfloat16),
    (1, 2, 2, 7, 300, 64, True, False, ml_dtypes.bfloat16),
    (2, 2, 1, 64, 64, 32, False, True, np.float32),
]


@pytest.mark.parametrize("case", ATTENTION, ids=str)
def test_attention_cupy_matches_reference_and_emulator(case: tuple) -> None:
    b, hq, hkv, tq, tk, d, causal, masked, dtype = case
    rng = np.random.default_rng(tq * d)
    q = rng.standard_normal((b, hq, tq, d)).astype(dtype)
    k = rng.standard_normal((b, hkv, tk, d)).astype(dtype)
    v = rng.standard_normal((b, hkv, tk, d)).astype(dtype)
    do = rng.standard_normal(q.shape).astype(dtype)
    mask = rng.random((b, tk)) > 0.3 if masked else None
    if mask is not None:
        mask[0] = False  # a fully masked batch row
    tol = 1e-5 if dtype == np.float32 else 1e-2
    dmask = None if mask is None else cupy.asarray(mask)
    o, lse = ops.attention_forward(*map(cupy.asarray, (q, k, v)), causal=causal, key_padding_mask=dmask)
    o_ref, lse_ref = ops.attention_forward(q, k, v, causal, None, mask, backend="reference")
    o_emu, lse_emu = ops.attention_forward(q, k, v, causal, None, mask, backend="emulate")
    assert relative_error(cupy.asnumpy(o), o_ref) < tol
    assert relative_error(cupy.asnumpy(o), o_emu) < tol
    assert relative_error(cupy.asnumpy(lse), lse_ref) < 1e-5
    grads = ops.attention_backward(*map(cupy.asarray, (q, k, v)), o, lse, cupy.asarray(do), causal=causal,
                                   key_padding_mask=dmask)
    refs = ops.attention_backward(q, k, v, o_ref, lse_ref, do, causal, None, mask, backend="reference")
    emus = ops.attention_backward(q, k, v, o_emu, lse_emu, do, causal, None, mask, backend="emulate")
    floor = 0.1 * float(np.linalg.norm(np.asarray(refs[2], np.float64)))
    for g, r, e in zip(grads, refs, emus):
        g = np.asarray(cupy.asnumpy(g), np.float64)
        for target in (np.asarray(r, np.float64), np.asarray(e, np.float64)):
            denominator = max(float(np.linalg.norm(target)), floor)
            error = np.linalg.norm(g - target) / (denominator or 1.0)  # all zero: absolute
            assert error < 2 * tol
    again = ops.attention_backward(*map(cupy.asarray, (q, k, v)), o, lse, cupy.asarray(do), causal=causal,
                                   key_padding_mask=dmask)
    for a, b2 in zip(grads, again):  # deterministic on the GPU too (no atomics)
        assert cupy.asnumpy(a).tobytes() == cupy.asnumpy(b2).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16])
@pytest.mark.parametrize("shape", [(7, 129), (64, 4097), (3, 32000)])
def test_row_kernels_cupy_match_reference_and_emulator(shape: tuple[int, int], dtype: type) -> None:
    rng = np.random.default_rng(shape[1])
    x = rng.standard_normal(shape).astype(dtype)
    x[1, ::2] = -np.inf
    tol = 1e-5 if dtype == np.float32 else 1e-2
    y = cupy.asnumpy(ops.softmax(cupy.asarray(x)))
    assert relative_error(y, ops.softmax(x)) < tol
    assert relative_error(y, ops.softmax(x, backend="emulate")) < tol
    z = rng.standard_normal(shape).astype(dtype)
    t = rng.integers(0, shape[1], shape[0])
    t[0] = -100
    loss, grad = ops.cross_entropy(cupy.asarray(z), cupy.asarray(t))
    loss_ref, grad_ref = ops.cross_entropy(z, t)
    assert abs(float(loss) - loss_ref) <= tol * abs(loss_ref)
    assert relative_error(cupy.asnumpy(grad), grad_ref) < tol
    w = rng.standard_normal(shape[1]).astype(dtype)
    yn, rstd = ops.rms_norm_forward(cupy.asarray(z), cupy.asarray(w))
    assert relative_error(cupy.asnumpy(yn), ops.rms_norm_forward(z, w)[0]) < tol
    dx, dw = ops.rms_norm_backward(cupy.asarray(z), cupy.asarray(w), rstd, cupy.asarray(z))
    dx_ref, dw_ref = ops.rms_norm_backward(z, w, cupy.asnumpy(rstd), z)
    assert relative_error(cupy.asnumpy(dx), dx_ref) < tol
    assert relative_error(cupy.asnumpy(dw), dw_ref) < tol


def test_cupy_backend_rejects_numpy_arrays() -> None:
    with pytest.raises(TypeError, match="takes CuPy arrays"):
        ops.softmax(np.zeros((2, 3), np.float32), backend="cupy")


def test_tensor_core_instruction_matches_numpy_and_its_cpu_twin() -> None:
    """The hardware's mma.sync against NumPy and against the emulator's twin (same fragment layout)."""
    from pathlib import Path

    from corpuskit.gpu.backends import CUPY_OPTIONS, cupy_include_options
    from corpuskit.gpu.emulate import EmulatedModule
    from corpuskit.gpu.kernels import KERNEL_DIR

    source = Path(__file__).resolve().parent / "kernels" / "mma_tile.cu"
    code = source.read_text().replace('#include "common.cuh"', (KERNEL_DIR / "common.cuh").read_text())
    kernel = cupy.RawModule(code=code, options=CUPY_OPTIONS + cupy_include_options()).get_function("mma_tile")
    rng = np.random.default_rng(9)
    a = rng.standard_normal((16, 16)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((16, 8)).astype(ml_dtypes.bfloat16)
    c = rng.standard_normal((16, 8)).astype(np.float32)
    d = cupy.full((16, 8), cupy.nan, dtype=cupy.float32)
    kernel((1,), (32,), (cupy.asarray(a), cupy.asarray(b), cupy.asarray(c), d))
    on_gpu = cupy.asnumpy(d)
    np.testing.assert_allclose(on_gpu, a.astype(np.float64) @ b.astype(np.float64) + c, rtol=1e-5, atol=1e-5)
    twin = np.full((16, 8), np.nan, dtype=np.float32)
    EmulatedModule(source=source, kernels=["mma_tile"]).launch("mma_tile", 1, 32, [a, b, c, twin])
    np.testing.assert_allclose(on_gpu, twin, rtol=1e-5, atol=1e-5)
