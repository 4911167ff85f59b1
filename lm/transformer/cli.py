"""`corpuskit lm transformer prepare | train | generate | eval | export`: a skin over the API.

Only click is imported here; NumPy, numba and the model load when a command runs.
"""

from __future__ import annotations

import math

import click


class _Commands(click.Group):
    """Bad input (a missing folder, a config LlamaForCausalLM cannot express) ends with its message."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        from corpuskit.document import CorpusError

        try:
            return super().invoke(ctx)
        except (CorpusError, ValueError, OSError, LookupError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group("transformer", cls=_Commands)
def transformer() -> None:
    """A small Llama-family transformer LM: our forward and backward, CPU fast path, HF export."""


@transformer.command("prepare")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--tokenizer", "tokenizer_path", required=True, type=click.Path(exists=True, dir_okay=False), help="tokenizer.json")
@click.option("-o", "--output", required=True, help="Folder for the shards and manifest.json.")
@click.option("--eos-token", default=None, help="Token between documents when the tokenizer has no <|endoftext|>, </s> or <eos>.")
@click.option("--val-fraction", default=0.01, show_default=True, help="Share of documents for validation.")
@click.option("--workers", default=1, show_default=True, help="Processes (one input file each at a time).")
def prepare_cmd(inputs: tuple[str, ...], tokenizer_path: str, output: str, eos_token: str | None, val_fraction: float, workers: int) -> None:
    """Tokenise INPUTS (anything corpuskit reads) into uint16/uint32 shards.  Example: corpuskit lm transformer prepare a.txt --tokenizer tok.json -o data"""
    from corpuskit.lm.transformer.data import prepare

    manifest = prepare(inputs, tokenizer_path, output, eos_token=eos_token, val_fraction=val_fraction, workers=workers)
    for split, totals in manifest["totals"].items():
        click.echo(f"{split}: {totals['tokens']:,} tokens, {totals['documents']:,} documents, {totals['bytes']:,} bytes")
    click.echo(f"-> {output}/manifest.json ({manifest['dtype']}, vocabulary {manifest['vocab_size']}, EOS {manifest['eos_token']!r})")


@transformer.command("train")
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False), help="Folder written by `prepare`.")
@click.option("-o", "--output", required=True, help="Run folder (checkpoints, history.jsonl, loss.png).")
@click.option("--config", "config", default="tiny", show_default=True, help="tiny | small | gpt2-124m | a model config JSON file.")
@click.option("--device", type=click.Choice(["auto", "cpu", "gpu"]), default="auto", show_default=True)
@click.option("--max-steps", default=200, show_default=True)
@click.option("--batch-size", default=16, show_default=True)
@click.option("--seq-len", default=0, help="Window length (default: the model's block_size).")
@click.option("--grad-accum", default=1, show_default=True, help="Micro-batches per optimiser step.")
@click.option("--lr", default=1e-3, show_default=True)
@click.option("--warmup-steps", default=20, show_default=True)
@click.option("--eval-every", default=100, show_default=True)
@click.option("--checkpoint-every", default=100, show_default=True)
@click.option("--workers", default=0, help="Threads (default: all cores).")
@click.option("--seed", default=0, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from the run folder's latest checkpoint.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def train_cmd(data: str, output: str, config: str, device: str, max_steps: int, batch_size: int, seq_len: int, grad_accum: int, lr: float,
              warmup_steps: int, eval_every: int, checkpoint_every: int, workers: int, seed: int, resume: bool, no_progress: bool) -> None:
    """Train on prepared shards.  Example: corpuskit lm transformer train --data data --config tiny -o runs/tiny"""
    from corpuskit.lm.transformer.train import TrainConfig, train

    cfg = TrainConfig(data=data, out=output, config=config, device=device, max_steps=max_steps, batch_size=batch_size, seq_len=seq_len,
                      grad_accum=grad_accum, lr=lr, warmup_steps=warmup_steps, eval_every=eval_every, checkpoint_every=checkpoint_every,
                      workers=workers, seed=seed, progress=not no_progress)
    model = train(cfg, resume=resume, echo=click.echo)
    click.echo(f"{model.num_parameters():,} parameters -> {output}")


@transformer.command("generate")
@click.argument("run_dir", type=click.Path(exists=True))
@click.option("--prompt", default="", help="Text to continue (empty: start after an EOS).")
@click.option("--strategy", type=click.Choice(["greedy", "beam", "sample", "top-k", "top-p", "typical"]), default="top-p", show_default=True)
@click.option("--max-tokens", default=50, show_default=True)
@click.option("--temperature", default=1.0, show_default=True)
@click.option("--top-k", default=40, show_default=True)
@click.option("--top-p", default=0.9, show_default=True)
@click.option("--typical-p", default=0.9, show_default=True)
@click.option("--beam-size", default=4, show_default=True)
@click.option("--repetition-penalty", default=1.0, show_default=True)
@click.option("-n", "--samples", default=1, show_default=True, help="Continuations, decoded as one batch.")
@click.option("--seed", default=0, show_default=True)
def generate_cmd(run_dir: str, prompt: str, strategy: str, max_tokens: int, temperature: float, top_k: int, top_p: float, typical_p: float,
                 beam_size: int, repetition_penalty: float, samples: int, seed: int) -> None:
    """Continue a prompt with a trained model (KV cache, corpuskit.lm.decoding).  Example: corpuskit lm transformer generate runs/tiny --prompt "The" """
    from corpuskit.lm.decoding import DecodingConfig
    from corpuskit.lm.transformer.generation import generate_text, load_run

    model, tokenizer, eos = load_run(run_dir)
    cfg = DecodingConfig(strategy=strategy, max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, typical_p=typical_p,
                         beam_size=beam_size, repetition_penalty=repetition_penalty, stop_tokens=(eos,) if eos is not None else (), seed=seed)
    for text in generate_text(model, tokenizer, [prompt] * samples, cfg, eos):
        click.echo(prompt + text)


@transformer.command("eval")
@click.argument("run_dir", type=click.Path(exists=True))
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False), help="Folder written by `prepare`.")
@click.option("--split", type=click.Choice(["val", "train"]), default="val", show_default=True)
@click.option("--seq-len", default=0, help="Window length (default: the model's block_size).")
@click.option("--max-tokens", default=0, help="Score at most this many tokens (default: the whole split).")
def eval_cmd(run_dir: str, data: str, split: str, seq_len: int, max_tokens: int) -> None:
    """Print perplexity per token and per byte on a prepared split.  Example: corpuskit lm transformer eval runs/tiny --data data"""
    from corpuskit.lm.transformer import TransformerLM
    from corpuskit.lm.transformer.data import TokenShards
    from corpuskit.lm.transformer.train import evaluate

    model = TransformerLM.load(run_dir)
    shards = TokenShards.open(data, split)
    loss, count = evaluate(model, shards, seq_len or model.config.block_size, max_tokens or None)
    click.echo(f"tokens\t{count}")
    click.echo(f"loss_nats\t{loss:.4f}")
    click.echo(f"perplexity\t{math.exp(loss):.3f}")
    totals = shards.manifest["totals"][split]
    if totals["tokens"] and totals["bytes"]:
        # bytes of the scored share of the split (all of it unless --max-tokens cut it short)
        scored_bytes = totals["bytes"] * count / totals["tokens"]
        click.echo(f"bits_per_byte\t{loss * count / scored_bytes / math.log(2):.4f}")
        click.echo(f"perplexity_per_byte\t{math.exp(loss * count / scored_bytes):.4f}")


@transformer.command("export")
@click.argument("run_dir", type=click.Path(exists=True))
@click.option("-o", "--output", required=True, help="Folder for the Hugging Face LlamaForCausalLM files.")
def export_cmd(run_dir: str, output: str) -> None:
    """Write config.json, model.safetensors, generation_config.json and the tokenizer for transformers.  Example: corpuskit lm transformer export runs/tiny -o hf"""
    from pathlib import Path

    from corpuskit.lm.transformer.hf import export_hf

    out = export_hf(Path(run_dir), Path(output))
    click.echo(f"-> {out} (load with transformers.AutoModelForCausalLM.from_pretrained)")
