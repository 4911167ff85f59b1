"""GPU kernels against PyTorch, side by side in one run (needs CuPy, PyTorch with CUDA, a GPU).

Times ours (corpuskit.gpu.ops, backend="cupy") and PyTorch on the same device buffers:
causal attention (SDPA) forward and forward+backward, softmax, fused cross-entropy
forward+backward, RMSNorm; plus a device-to-device copy as the bandwidth yardstick. Prints the
tables, appends them to benchmarks/RESULTS.md and writes every figure to a JSON file.

FLOPs are counted as the FlashAttention papers do: 4·B·H·T²·D for the forward, halved when
causal; the backward is 2.5× the forward. Bandwidth counts one read and one write per element.

    python benchmarks/gpu_bench.py                 # the issue's shapes
    python benchmarks/gpu_bench.py --quick         # small shapes, a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, record  # noqa: E402


def _imports() -> tuple[Any, Any, Any]:
    try:
        import cupy
        import torch
        import torch.nn.functional as F
    except ImportError as exc:
        sys.exit(f"gpu_bench needs CuPy and PyTorch: {exc}")
    if not torch.cuda.is_available() or cupy.cuda.runtime.getDeviceCount() == 0:
        sys.exit("gpu_bench needs a CUDA device visible to both CuPy and PyTorch")
    return cupy, torch, F


def bench(fn: Callable[[], Any], sync: Callable[[], None], min_time: float = 0.5, warmup: int = 3) -> float:
    """Mean seconds per call: warm up, then run batches until `min_time` has passed."""
    for _ in range(warmup):
        fn()
    sync()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        if calls % 5 == 0:
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                return elapsed / calls


def to_cupy(cupy: Any, t: Any) -> Any:
    """A CuPy view of a contiguous torch CUDA tensor (bf16 through an int16 view if needed)."""
    import ml_dtypes
    import torch

    if t.dtype == torch.bfloat16:
        try:
            return cupy.from_dlpack(t)
        except Exception:  # a CuPy without bfloat16 DLPack support
            return cupy.from_dlpack(t.view(torch.int16)).view(ml_dtypes.bfloat16)
    return cupy.from_dlpack(t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small shapes (a smoke run)")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "gpu_bench.json"), help="where the figures go")
    args = parser.parse_args()
    cupy, torch, F = _imports()
    from corpuskit.gpu import ops

    dev = torch.device("cuda")
    torch.manual_seed(0)
    sync_ours = cupy.cuda.Device().synchronize
    sync_torch = torch.cuda.synchronize
    name = torch.cuda.get_device_name()
    figures: dict[str, Any] = {"device": name, "torch": torch.__version__, "cupy": cupy.__version__,
                               "date": dt.datetime.now(dt.timezone.utc).isoformat(), "rows": []}
    command = "python benchmarks/gpu_bench.py" + (" --quick" if args.quick else "")

    # Attention: causal, B=16, H=12, D=64, bf16.
    rows = []
    b, h, d = (2, 4, 64) if args.quick else (16, 12, 64)
    for t in (256,) if args.quick else (1024, 4096):
        q, k, v, do = (torch.randn(b, h, t, d, device=dev, dtype=torch.bfloat16) for _ in range(4))
        cq, ck, cv, cdo = (to_cupy(cupy, x) for x in (q, k, v, do))
        fwd_flops = 4 * b * h * t * t * d * 0.5
        ours_f = bench(lambda: ops.attention_forward(cq, ck, cv, causal=True), sync_ours)
        o, lse = ops.attention_forward(cq, ck, cv, causal=True)

        def ours_fb() -> None:
            o2, lse2 = ops.attention_forward(cq, ck, cv, causal=True)
            ops.attention_backward(cq, ck, cv, o2, lse2, cdo, causal=True)

        ours_fwd_bwd = bench(ours_fb, sync_ours)
        torch_f = bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), sync_torch)
        qg, kg, vg = (x.clone().requires_grad_(True) for x in (q, k, v))

        def torch_fb() -> None:
            F.scaled_dot_product_attention(qg, kg, vg, is_causal=True).backward(do)

        torch_fwd_bwd = bench(torch_fb, sync_torch)
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=True).float()
        ours_o = torch.from_dlpack(o.view(cupy.int16)).view(torch.bfloat16).float() if o.dtype != cupy.float32 else torch.from_dlpack(o)
        err = float((ours_o - ref).norm() / ref.norm())
        for label, ours_s, torch_s, flops in (("forward", ours_f, torch_f, fwd_flops),
                                              ("forward+backward", ours_fwd_bwd, torch_fwd_bwd, 3.5 * fwd_flops)):
            row = [f"attention {label}", f"B={b} H={h} T={t} D={d} bf16 causal", ours_s * 1e3, torch_s * 1e3,
                   flops / ours_s / 1e12, flops / torch_s / 1e12, torch_s / ours_s]
            rows.append(row)
            figures["rows"].append(dict(zip(("op", "shape", "ours_ms", "torch_ms", "ours_tflops", "torch_tflops",
                                             "ours_over_torch_throughput"), row)) | {"rel_error_vs_torch": err})
    record(f"GPU attention vs PyTorch SDPA on {name}",
           ["op", "shape", "ours ms", "torch ms", "ours TFLOP/s", "torch TFLOP/s", "throughput ours/torch"],
           rows, command, "Targets: forward ≥ 0.35, forward+backward ≥ 0.25 (stretch 0.5).")

    # Row kernels against the copy yardstick and PyTorch.
    rows = []
    shapes = [(4096, 1024)] if args.quick else [(196_608, 1_024), (4_096, 32_000)]
    for n, cols in shapes:
        x = torch.randn(n, cols, device=dev)
        cx = to_cupy(cupy, x)
        dst = cupy.empty_like(cx)
        nbytes = 2 * x.numel() * 4
        copy_s = bench(lambda: cupy.copyto(dst, cx), sync_ours)
        ours_s = bench(lambda: ops.softmax(cx), sync_ours)
        torch_s = bench(lambda: torch.softmax(x, dim=-1), sync_torch)
        rows.append(["softmax fp32", f"{n}x{cols}", ours_s * 1e3, torch_s * 1e3, nbytes / ours_s / 1e9,
                     nbytes / copy_s / 1e9, copy_s / ours_s, torch_s / ours_s])
    n, vocab = (1024, 32_000) if args.quick else (8_192, 32_000)
    logits = torch.randn(n, vocab, device=dev)
    targets = torch.randint(0, vocab, (n,), device=dev)
    cl, ct = to_cupy(cupy, logits), to_cupy(cupy, targets)
    dst = cupy.empty_like(cl)
    nbytes = 2 * logits.numel() * 4
    copy_s = bench(lambda: cupy.copyto(dst, cl), sync_ours)
    ours_s = bench(lambda: ops.cross_entropy(cl, ct), sync_ours)
    lg = logits.clone().requires_grad_(True)
    torch_s = bench(lambda: F.cross_entropy(lg, targets).backward(), sync_torch)
    rows.append(["cross-entropy fwd+bwd fp32", f"{n}x{vocab}", ours_s * 1e3, torch_s * 1e3, nbytes / ours_s / 1e9,
                 nbytes / copy_s / 1e9, copy_s / ours_s, torch_s / ours_s])
    n, c = (4096, 768) if args.quick else (16_384, 768)
    x = torch.randn(n, c, device=dev, dtype=torch.bfloat16)
    w = torch.randn(c, device=dev, dtype=torch.bfloat16)
    cx, cw = to_cupy(cupy, x), to_cupy(cupy, w)
    dst = cupy.empty_like(cx)
    nbytes = 2 * x.numel() * 2
    copy_s = bench(lambda: cupy.copyto(dst, cx), sync_ours)
    ours_s = bench(lambda: ops.rms_norm_forward(cx, cw), sync_ours)
    torch_s = bench(lambda: F.rms_norm(x, (c,), w, eps=1e-6), sync_torch)
    rows.append(["rms_norm forward bf16", f"{n}x{c}", ours_s * 1e3, torch_s * 1e3, nbytes / ours_s / 1e9,
                 nbytes / copy_s / 1e9, copy_s / ours_s, torch_s / ours_s])
    header = ["op", "shape", "ours ms", "torch ms", "ours GB/s", "copy GB/s", "ours/copy bandwidth", "speed-up over torch"]
    for row in rows:
        figures["rows"].append(dict(zip(header, row)))
    record(f"GPU row kernels vs a device copy and PyTorch on {name}", header, rows, command,
           "Targets: softmax ≥ 0.9 of copy bandwidth; cross-entropy time ≤ 1.4× one read+write of the logits "
           "(ours/copy bandwidth ≥ 0.71) and ≥ 3× faster than F.cross_entropy forward+backward.")
    path = Path(args.json)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(figures, indent=2) + "\n")
    tmp.replace(path)
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
