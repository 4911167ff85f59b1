"""One small launch of every kernel on the GPU, checked against the float64 reference.

`python -m corpuskit.gpu.smoke` exits 1 on a mismatch. `--sanitize racecheck` (or memcheck)
reruns this module under compute-sanitizer and reads its summary; where the runtime refuses
the sanitizer (some sandboxes do) it says so and exits 0, since that is no finding about us.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from corpuskit.gpu import ops
from corpuskit.gpu.reference import relative_error


def cases(backend: Any, to_device: Callable[[np.ndarray], Any], to_host: Callable[[Any], np.ndarray]) -> list[tuple[str, float, float]]:
    """(name, relative error, tolerance) for one small shape per kernel and dtype."""
    import ml_dtypes

    rng = np.random.default_rng(0)
    out: list[tuple[str, float, float]] = []
    for dtype, tol in ((np.float32, 1e-5), (ml_dtypes.bfloat16, 1e-2)):
        tag = np.dtype(dtype).name
        for d in (32, 64, 128):
            q, k, v, do = (rng.standard_normal(s).astype(dtype) for s in
                           ((1, 4, 70, d), (1, 2, 70, d), (1, 2, 70, d), (1, 4, 70, d)))
            mask = rng.random((1, 70)) > 0.2
            o, lse = ops.attention_forward(*map(to_device, (q, k, v)), causal=True,
                                           key_padding_mask=to_device(mask), backend=backend)
            o_ref, _ = ops.attention_forward(q, k, v, True, None, mask, backend="reference")
            out.append((f"attention_forward d{d} {tag}", relative_error(to_host(o), o_ref), tol))
            grads = ops.attention_backward(*map(to_device, (q, k, v)), o, lse, to_device(do), causal=True,
                                           key_padding_mask=to_device(mask), backend=backend)
            refs = ops.attention_backward(q, k, v, o_ref, None, do, True, None, mask, backend="reference")
            for name, g, r in zip(("dq", "dk", "dv"), grads, refs):
                out.append((f"attention_backward {name} d{d} {tag}", relative_error(to_host(g), r), 2 * tol))
        x = rng.standard_normal((9, 300)).astype(dtype)
        out.append((f"softmax {tag}", relative_error(to_host(ops.softmax(to_device(x), backend=backend)), ops.softmax(x)), tol))
        y = ops.softmax(x)
        dx = ops.softmax_backward(to_device(y), to_device(x), backend=backend)
        out.append((f"softmax_backward {tag}", relative_error(to_host(dx), ops.softmax_backward(y, x)), tol))
        t = rng.integers(0, 300, 9)
        t[3] = -100
        loss, grad = ops.cross_entropy(to_device(x), to_device(t), backend=backend)
        loss_ref, grad_ref = ops.cross_entropy(x, t)
        out.append((f"cross_entropy loss {tag}", abs(float(loss) - loss_ref) / abs(loss_ref), tol))
        out.append((f"cross_entropy grad {tag}", relative_error(to_host(grad), grad_ref), tol))
        w = rng.standard_normal(300).astype(dtype)
        yn, rstd = ops.rms_norm_forward(to_device(x), to_device(w), backend=backend)
        out.append((f"rms_norm_forward {tag}", relative_error(to_host(yn), ops.rms_norm_forward(x, w)[0]), tol))
        dxn, dw = ops.rms_norm_backward(to_device(x), to_device(w), rstd, to_device(x), backend=backend)
        dx_ref, dw_ref = ops.rms_norm_backward(x, w, to_host(rstd), x)
        out.append((f"rms_norm_backward dx {tag}", relative_error(to_host(dxn), dx_ref), tol))
        out.append((f"rms_norm_backward dw {tag}", relative_error(to_host(dw), dw_ref), tol))
    return out


def run_on_gpu() -> int:
    import cupy

    results = cases("cupy", cupy.asarray, cupy.asnumpy)
    cupy.cuda.Device().synchronize()
    bad = 0
    for name, error, tol in results:
        flag = "ok" if error < tol else "MISMATCH"
        bad += error >= tol
        print(f"{flag:8} {name:40} rel error {error:.2e} (tolerance {tol:.0e})")
    return 1 if bad else 0


def run_sanitizer(tool: str) -> int:
    exe = shutil.which("compute-sanitizer")
    if exe is None:
        print(f"compute-sanitizer {tool}: not found on PATH; skipped (install the CUDA toolkit to run it)")
        return 0
    proc = subprocess.run([exe, "--tool", tool, sys.executable, "-m", "corpuskit.gpu.smoke"],
                          capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    summary = re.search(r"ERROR SUMMARY: (\d+) error", text)
    if summary is None:
        print(f"compute-sanitizer {tool}: could not run here (exit {proc.returncode}); going on. Its output:")
        print(text[-3000:])
        return 0
    print(text[-4000:])
    return 1 if int(summary.group(1)) or proc.returncode else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sanitize", choices=["racecheck", "memcheck"], help="run under compute-sanitizer")
    args = parser.parse_args()
    sys.exit(run_sanitizer(args.sanitize) if args.sanitize else run_on_gpu())


if __name__ == "__main__":
    main()
