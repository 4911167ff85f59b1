"""Every kernel once under ThreadSanitizer (the emulated launch replayed in a TSan-built
driver): no data race between the threads of a block. Races between blocks are the
block-order test's job (test_emulator.py)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from corpuskit.gpu import ops
from corpuskit.gpu.backends import EmulateBackend
from corpuskit.gpu.reference import relative_error

pytestmark = pytest.mark.usefixtures("emulator")
TSAN = EmulateBackend(sanitize=True)


@pytest.mark.parametrize("d,dtype", [(32, np.float32), (128, ml_dtypes.bfloat16)])
def test_attention_kernels_race_free(d: int, dtype: type) -> None:
    rng = np.random.default_rng(d)
    q = rng.standard_normal((1, 2, 40, d)).astype(dtype)
    k = rng.standard_normal((1, 1, 70, d)).astype(dtype)
    v = rng.standard_normal((1, 1, 70, d)).astype(dtype)
    mask = rng.random((1, 70)) > 0.2
    o, lse = ops.attention_forward(q, k, v, causal=True, key_padding_mask=mask, backend=TSAN)
    tol = 1e-5 if dtype == np.float32 else 1e-2
    assert relative_error(o, ops.attention_forward(q, k, v, True, None, mask, backend="reference")[0]) < tol
    do = rng.standard_normal(q.shape).astype(dtype)
    grads = ops.attention_backward(q, k, v, o, lse, do, causal=True, key_padding_mask=mask, backend=TSAN)
    refs = ops.attention_backward(q, k, v, o, lse, do, True, None, mask, backend="reference")
    for g, r in zip(grads, refs):
        assert relative_error(g, r) < 2 * tol


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16])
def test_row_kernels_race_free(dtype: type) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 300)).astype(dtype)
    y = ops.softmax(x, backend=TSAN)
    ops.softmax_backward(y, x, backend=TSAN)
    ops.cross_entropy(x, np.array([1, -100, 299]), backend=TSAN)
    w = rng.standard_normal(300).astype(dtype)
    yn, rstd = ops.rms_norm_forward(x, w, backend=TSAN)
    dx, dw = ops.rms_norm_backward(x, w, rstd, x, backend=TSAN)
    tol = 1e-5 if dtype == np.float32 else 1e-2
    assert relative_error(dw, ops.rms_norm_backward(x, w, rstd, x)[1]) < tol
