"""The training loop: random windows from token shards, AdamW, warm-up + cosine, clipping, accumulation.

A flat loop, nanoGPT's `train.py` in shape. The run folder gets `run.json` (training config,
tokenizer facts), `tokenizer.json`, `history.jsonl` (one line per step, one per validation),
`loss.png` and `checkpoints/step_N/`. `--resume` restores parameters, AdamW moments, the data and
dropout RNG states and the step, and truncates the history to the checkpoint: on the CPU the
losses after a resume are bitwise those of an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from corpuskit.lm.transformer.checkpoint import latest_checkpoint, read_json, read_safetensors, save_checkpoint, write_json
from corpuskit.lm.transformer.data import TokenShards
from corpuskit.lm.transformer.model import PRESETS, TransformerConfig, TransformerLM, load_config
from corpuskit.lm.transformer.optim import AdamW, lr_at, set_threads
from corpuskit.trainer import Trainer

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Everything `corpuskit lm transformer train` takes; saved in run.json and every checkpoint."""

    data: str = ""
    out: str = ""
    config: str = "tiny"  # a preset name or a model config JSON file
    device: str = "auto"  # auto | cpu | gpu
    max_steps: int = 200
    batch_size: int = 16
    seq_len: int = 0  # 0: the model's block_size
    grad_accum: int = 1
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 20
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    eval_every: int = 100
    eval_tokens: int = 1 << 16
    checkpoint_every: int = 100
    seed: int = 0
    workers: int = 0  # threads; 0: numba's and OpenBLAS's defaults
    progress: bool = True


def model_config(cfg: TrainConfig, vocab_size: int) -> TransformerConfig:
    """The model shape: a preset (vocabulary from the data) or a JSON file; seq_len widens block_size."""
    if cfg.config in PRESETS:
        mcfg = TransformerConfig.preset(cfg.config, vocab_size=vocab_size)
    else:
        mcfg = load_config(cfg.config)
        if mcfg.vocab_size < vocab_size:
            raise ValueError(f"{cfg.config}: vocab_size {mcfg.vocab_size} is smaller than the data's {vocab_size}")
    if cfg.seq_len and cfg.seq_len != mcfg.block_size:
        if mcfg.positions == "learned" and cfg.seq_len > mcfg.block_size:
            raise ValueError(f"--seq-len {cfg.seq_len} exceeds block_size {mcfg.block_size} of learned positions")
        mcfg.block_size = cfg.seq_len
    return mcfg


def gpu_unavailable() -> str | None:
    """Why the GPU path cannot run here (no CuPy, no CUDA device), or None when it can."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install cupy-cuda13x, or cupy-cuda12x)"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError when the driver or device is missing
        return f"CuPy finds no CUDA device ({exc})"
    return None if count > 0 else "CuPy finds no CUDA device"


def resolve_device(device: str) -> str:
    """'cpu' or 'gpu'. 'gpu' needs CuPy and a device (refused with the reason otherwise); 'auto' picks the
    CPU: the GPU path has no mixed precision yet and has not been measured on hardware."""
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"--device must be auto, cpu or gpu, not {device!r}")
    if device == "gpu":
        reason = gpu_unavailable()
        if reason is not None:
            raise ValueError(f"--device gpu: {reason}; use --device cpu")
        return "gpu"
    return "cpu"


def evaluate(model: TransformerLM, data: TokenShards, seq_len: int, max_tokens: int | None) -> tuple[float, int]:
    """Mean loss (nats per token) over consecutive validation windows and the number of tokens scored."""
    total, count = 0.0, 0
    for x, y in data.windows(seq_len, max_tokens):
        loss_sum, n = model.loss(x, y)
        total += loss_sum
        count += n
    return (total / count if count else float("nan")), count


class _History:
    """history.jsonl, appended line by line; on resume, lines after the checkpoint's step are dropped."""

    def __init__(self, path: Path, resume_step: int | None) -> None:
        self.path = path
        if resume_step is not None and path.exists():
            keep = [line for line in path.read_text(encoding="utf-8").splitlines() if line and json.loads(line)["step"] <= resume_step]
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
            tmp.replace(path)
        elif resume_step is None and path.exists():
            path.unlink()
        self.handle = open(path, "a", encoding="utf-8")

    def add(self, record: dict[str, Any]) -> None:
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def plot_history(run_dir: Path) -> Path | None:
    """loss.png: training and validation loss against step (needs matplotlib, the `plot` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: no loss.png (pip install corpuskit[plot])")
        return None
    rows = [json.loads(line) for line in (run_dir / "history.jsonl").read_text(encoding="utf-8").splitlines() if line]
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
    fig, ax = plt.subplots(figsize=(6, 4))
    if train:
        ax.plot(*zip(*train), label="train", linewidth=0.8)
    if val:
        ax.plot(*zip(*val), "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.legend()
    ax.grid(alpha=0.3)
    path = run_dir / "loss.png"
    tmp = run_dir / "loss.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path


def train(cfg: TrainConfig, resume: bool = False, echo: Any = None) -> TransformerLM:
    """Train (or resume) into cfg.out; returns the model after the last step."""
    if not cfg.data or not cfg.out:
        raise ValueError("training needs --data (a prepared folder) and -o (the run folder)")
    device = resolve_device(cfg.device)
    set_threads(cfg.workers)
    run_dir = Path(cfg.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_data = TokenShards.open(cfg.data, "train")
    val_data = TokenShards.open(cfg.data, "val")
    manifest = train_data.manifest
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"--resume: {run_dir} has no checkpoint")
    if checkpoint is not None:
        mcfg = TransformerConfig.from_dict(read_json(checkpoint / "config.json"), str(checkpoint / "config.json"))
    else:
        mcfg = model_config(cfg, int(manifest["vocab_size"]))
    seq_len = cfg.seq_len or mcfg.block_size
    model = TransformerLM(mcfg, seed=cfg.seed, ops="gpu" if device == "gpu" else "numba")
    model.training = True
    opt = AdamW(model.params, model.ops, cfg.beta1, cfg.beta2, 1e-8, cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    step, tokens_seen = 0, 0
    if checkpoint is not None:
        state = read_json(checkpoint / "state.json")
        model.load_state_dict(read_safetensors(checkpoint / "model.safetensors"), str(checkpoint))
        moments = read_safetensors(checkpoint / "optimizer.safetensors")
        opt.m[:], opt.v[:] = model.xp.asarray(moments["m"]), model.xp.asarray(moments["v"])
        opt.step_count = state["optimizer_step"]
        rng.bit_generator.state = state["data_rng"]
        model.dropout_rng.bit_generator.state = state["dropout_rng"]
        step, tokens_seen = state["step"], state["tokens_seen"]
        log.info("resumed from %s (step %d)", checkpoint, step)
    else:
        src = Path(cfg.data) / manifest.get("tokenizer", "tokenizer.json")
        if src.exists():
            (run_dir / "tokenizer.json").write_bytes(src.read_bytes())
        write_json(run_dir / "run.json", {"train": asdict(cfg), "eos_id": manifest.get("eos_id"), "eos_token": manifest.get("eos_token"), "data_bytes": manifest.get("totals")})
    history = _History(run_dir / "history.jsonl", step if checkpoint is not None else None)
    bar = None
    if cfg.progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.max_steps, initial=step, unit="step", dynamic_ncols=True)
    batch_tokens = cfg.batch_size * seq_len * cfg.grad_accum
    started = time.perf_counter()
    try:
        while step < cfg.max_steps:
            t0 = time.perf_counter()
            lr = lr_at(step, cfg.lr, cfg.warmup_steps, cfg.max_steps, cfg.min_lr_ratio)
            model.params.grad[:] = 0
            loss = 0.0
            for _ in range(cfg.grad_accum):
                x, y = train_data.sample(rng, cfg.batch_size, seq_len)
                loss += model.forward_backward(x, y, loss_scale=1.0 / cfg.grad_accum) / cfg.grad_accum
            if not math.isfinite(loss):
                raise FloatingPointError(f"step {step + 1}: loss is {loss}; lower --lr")
            norm = opt.clip(cfg.grad_clip)
            opt.step(lr)
            step += 1
            tokens_seen += batch_tokens
            dt = time.perf_counter() - t0
            history.add({"step": step, "loss": loss, "lr": lr, "grad_norm": norm, "tokens": tokens_seen, "tok_per_s": batch_tokens / dt})
            if bar is not None:
                bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{batch_tokens / dt:,.0f}")
                bar.update(1)
            if val_data.tokens and (step % cfg.eval_every == 0 or step == cfg.max_steps):
                model.training = False
                val_loss, n = evaluate(model, val_data, seq_len, cfg.eval_tokens)
                model.training = True
                history.add({"step": step, "val_loss": val_loss, "val_tokens": n})
                if echo:
                    echo(f"step {step}: validation loss {val_loss:.4f} (perplexity {math.exp(val_loss):.2f})")
            if step % cfg.checkpoint_every == 0 or step == cfg.max_steps:
                save_checkpoint(
                    run_dir,
                    step,
                    {"model.safetensors": model.state_dict(), "optimizer.safetensors": {"m": model._host(opt.m), "v": model._host(opt.v)}},
                    {
                        "step": step,
                        "tokens_seen": tokens_seen,
                        "optimizer_step": opt.step_count,
                        "data_rng": rng.bit_generator.state,
                        "dropout_rng": model.dropout_rng.bit_generator.state,
                        "train": asdict(cfg),
                        "elapsed_s": time.perf_counter() - started,
                    },
                    mcfg.to_dict(),
                )
    finally:
        history.close()
        if bar is not None:
            bar.close()
    plot_history(run_dir)
    model.training = False
    return model


class TransformerTrainer(Trainer):
    """The `transformer` trainer plugin: learns from a prepared shard folder (`train(data_dir)`).

    It has no counting stage (`counts_class = None`): token shards are its input. Without `out`,
    checkpoints go to a temporary run folder that is removed when training ends.
    """

    name: ClassVar[str] = "transformer"
    config_class: ClassVar[type] = TrainConfig
    input_kind: ClassVar[str] = "path"

    def train(self, corpus: Any, progress: bool = False) -> TransformerLM:
        """`corpus` is the folder `corpuskit lm transformer prepare` wrote (shards + manifest)."""
        if not isinstance(corpus, (str, Path)):
            raise TypeError("the transformer trainer learns from a prepared shard folder: pass its path (see `corpuskit lm transformer prepare`)")
        if self.config.out:
            return train(TrainConfig(**{**asdict(self.config), "data": str(corpus)}))
        import tempfile

        with tempfile.TemporaryDirectory(prefix="corpuskit-transformer-") as run_dir:
            return train(TrainConfig(**{**asdict(self.config), "data": str(corpus), "out": run_dir}))
