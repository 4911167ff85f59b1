"""Quickstart stage `40-transformer`: a tiny transformer on the cleaned sample, loss falling, a sample printed."""

from __future__ import annotations

import math

from corpuskit.quickstart.context import QuickstartContext


def stage(ctx: QuickstartContext) -> None:
    """Byte-level BPE (through the trainer registry), shards, 120 steps of the `tiny` preset on the CPU, a sample.

    Seconds on 2 cores once numba's kernels are compiled (the first run compiles them, ~20 s, and caches them).
    """
    import json

    from corpuskit import registry
    from corpuskit.lm.decoding import DecodingConfig
    from corpuskit.lm.transformer.data import prepare
    from corpuskit.lm.transformer.generation import generate_text, load_run
    from corpuskit.lm.transformer.train import TrainConfig, train
    from corpuskit.readers import iter_texts

    out = ctx.directory / "transformer"
    out.mkdir(parents=True, exist_ok=True)
    trainer = registry.load("trainers", "byte-bpe")(vocab_size=512, special_tokens=["<|endoftext|>"])
    tokenizer = trainer.train(iter_texts(str(ctx.corpus)))
    tokenizer.save(out / "tokenizer.json")
    manifest = prepare([str(ctx.corpus)], out / "tokenizer.json", out / "data", val_fraction=0.05)
    ctx.echo(f"transformer: {manifest['totals']['train']['tokens']:,} training tokens, {manifest['totals']['val']['tokens']:,} validation")
    cfg = TrainConfig(data=str(out / "data"), out=str(out / "run"), config="tiny", max_steps=120, batch_size=8, seq_len=64, lr=3e-3,
                      warmup_steps=10, eval_every=60, checkpoint_every=120, progress=False)
    model = train(cfg)
    rows = [json.loads(line) for line in (out / "run" / "history.jsonl").read_text(encoding="utf-8").splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    vals = [r["val_loss"] for r in rows if "val_loss" in r]
    ctx.echo(f"transformer: tiny preset ({model.num_parameters():,} parameters), loss {losses[0]:.2f} -> {losses[-1]:.2f} in {len(losses)} steps"
             + (f", validation perplexity {math.exp(vals[-1]):.1f}" if vals else ""))
    model, tok, eos = load_run(out / "run")
    text = generate_text(model, tok, ["The"], DecodingConfig(strategy="top-p", top_p=0.9, max_tokens=30, stop_tokens=(eos,), seed=0), eos)[0]
    ctx.echo(f"transformer: sample: The{text}")
    ctx.echo(f"transformer: run folder {out / 'run'} (history.jsonl, loss.png, checkpoints/)")
