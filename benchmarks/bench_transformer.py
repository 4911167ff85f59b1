"""Transformer LM on the CPU: corpuskit vs PyTorch eager (transformers' LlamaForCausalLM + AdamW).

Same config, same batch, same thread count, fp32 on both sides. Per preset (tiny, small):
training tokens/s (forward + backward + clipping + AdamW), peak RSS of a process that only
trains, and KV-cache generation tokens/s (greedy, batch 1). Each side runs in its own child
process (so peak RSS is its own); the children alternate (ours, PyTorch, ours, PyTorch, ... for
`--rounds` rounds) and each side's best round counts, so a load spike on a shared machine does
not land on one side only. Token ids are random (throughput does not depend on them).

    .venv/bin/python benchmarks/bench_transformer.py [--presets tiny small] [--threads 2] [--steps 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record  # noqa: E402

VOCAB = 8192
SHAPES = {"tiny": (16, 128), "small": (8, 256)}  # (batch, seq_len)

CHILD = r"""
import json, resource, sys, time
import numpy as np
side, preset, threads, steps, batch, seq, vocab, gen_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
rng = np.random.default_rng(0)
data = rng.integers(0, vocab, size=(steps + 2, batch, seq + 1))
prompt = [int(t) for t in rng.integers(0, vocab, size=16)]
from corpuskit.lm.transformer import TransformerConfig
cfg = TransformerConfig.preset(preset, vocab_size=vocab)
out = {}
if side == "ours":
    from corpuskit.lm.transformer import TransformerLM
    from corpuskit.lm.transformer.optim import AdamW, set_threads
    set_threads(threads)
    model = TransformerLM(cfg, seed=0)
    model.training = True
    opt = AdamW(model.params, model.ops)
    def train_step(i):
        model.params.grad[:] = 0
        loss = model.forward_backward(data[i, :, :-1], data[i, :, 1:])
        opt.clip(1.0)
        opt.step(1e-4)
        return loss
    def generate():
        model.training = False
        logprobs, state = model.start([prompt])
        for _ in range(gen_tokens - 1):
            logprobs, state = model.step(state, np.argmax(logprobs, axis=-1))
else:
    import torch, transformers
    from corpuskit.lm.transformer.hf import hf_config
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    conf = {k: v for k, v in hf_config(cfg).items() if k not in ("architectures", "model_type", "torch_dtype")}
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**conf)).float()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    tdata = torch.from_numpy(data)
    def train_step(i):
        model.train()
        opt.zero_grad(set_to_none=True)
        logits = model(input_ids=tdata[i, :, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), tdata[i, :, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()
    def generate():
        model.eval()
        with torch.no_grad():
            model.generate(torch.tensor([prompt]), max_new_tokens=gen_tokens, min_new_tokens=gen_tokens, do_sample=False, pad_token_id=0)
train_step(0); train_step(1)  # warm-up (numba compile cache load, allocator)
start = time.perf_counter()
for i in range(2, steps + 2):
    train_step(i)
out["train_tok_s"] = steps * batch * seq / (time.perf_counter() - start)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
generate()
start = time.perf_counter()
generate()
out["gen_tok_s"] = gen_tokens / (time.perf_counter() - start)
print(json.dumps(out))
"""


def run_side(side: str, preset: str, threads: int, steps: int, gen_tokens: int) -> dict:
    batch, seq = SHAPES[preset]
    args = [sys.executable, "-c", CHILD, side, preset, str(threads), str(steps), str(batch), str(seq), str(VOCAB), str(gen_tokens)]
    done = subprocess.run(args, capture_output=True, text=True, cwd="/tmp", check=False)
    if done.returncode != 0:
        sys.exit(f"{side} {preset} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "small"], choices=sorted(SHAPES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--gen-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for preset in args.presets:
        runs: dict[str, list[dict]] = {"ours": [], "torch": []}
        for _ in range(args.rounds):
            for side in runs:
                runs[side].append(run_side(side, preset, args.threads, args.steps, args.gen_tokens))
        ours, theirs = (
            {"train_tok_s": max(r["train_tok_s"] for r in rs), "gen_tok_s": max(r["gen_tok_s"] for r in rs), "peak_rss_mb": min(r["peak_rss_mb"] for r in rs)}
            for rs in (runs["ours"], runs["torch"])
        )
        batch, seq = SHAPES[preset]
        rows.append([f"{preset} train B={batch} T={seq}", "tokens/s", ours["train_tok_s"], theirs["train_tok_s"], ours["train_tok_s"] / theirs["train_tok_s"]])
        rows.append([f"{preset} train peak RSS", "MiB", ours["peak_rss_mb"], theirs["peak_rss_mb"], ours["peak_rss_mb"] / theirs["peak_rss_mb"]])
        rows.append([f"{preset} KV-cache greedy, B=1, {args.gen_tokens} tokens", "tokens/s", ours["gen_tok_s"], theirs["gen_tok_s"], ours["gen_tok_s"] / theirs["gen_tok_s"]])
    command = "python benchmarks/bench_transformer.py " + " ".join(sys.argv[1:])
    record(
        f"Transformer LM, CPU fp32, {args.threads} threads: corpuskit vs PyTorch eager (LlamaForCausalLM + AdamW)",
        ["measure", "unit", "corpuskit", "PyTorch", "ours / PyTorch"],
        rows,
        command.strip(),
        notes=f"vocab {VOCAB}, random ids, {args.steps} timed training steps after 2 warm-up steps; each side in its own process, "
        f"alternating, best of {args.rounds} rounds per side, on a 2-core machine shared with other jobs (load average far above 2 "
        "during the run: absolute figures are low and ratios noisy). RSS ratio: lower is better.",
    )


if __name__ == "__main__":
    main()
