"""`corpuskit tokenizer`: train, encode, decode, stats. A thin skin over the Python API.

Only click is imported at module level, so `corpuskit --help` stays fast.
"""

from __future__ import annotations

import sys
import time

import click

MODELS = ["bpe", "byte-bpe", "wordpiece", "unigram"]


@click.group()
def tokenizer() -> None:
    """Train and use tokenizers (BPE, byte-level BPE, WordPiece, Unigram) as HF tokenizer.json files."""


@tokenizer.command("train")
@click.option("--model", type=click.Choice(MODELS), default="byte-bpe", show_default=True)
@click.option("--vocab-size", type=int, default=32_000, show_default=True)
@click.option("--min-frequency", type=int, default=None, help="Pairs occurring fewer times are never merged (BPE, WordPiece; default 0).")
@click.option("--special-tokens", multiple=True, help="Special tokens, repeatable or comma-separated (default: the model's).")
@click.option("--lowercase/--no-lowercase", default=None, help="Lowercase text first (WordPiece defaults to on).")
@click.option("--pre-tokenizer", default=None, help="whitespace, whitespace_split, bert, metaspace (bpe, wordpiece, unigram); gpt2, gpt4 (byte-bpe).")
@click.option("--character-coverage", type=float, default=None, help="Unigram: share of characters given a piece; the rarest others encode as <unk> (default 0.9995, as SentencePiece; 1.0 keeps all).")
@click.option("--text-field", default="text", show_default=True, help="Field holding the text in JSONL/Parquet inputs.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="tokenizer.json to write.")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.argument("inputs", nargs=-1, required=True)
def train_cmd(model: str, vocab_size: int, min_frequency: int | None, special_tokens: tuple[str, ...], lowercase: bool | None, pre_tokenizer: str | None, character_coverage: float | None, text_field: str, output: str, progress: bool, inputs: tuple[str, ...]) -> None:
    """Train a tokenizer on text, JSONL, Parquet files or pipeline output folders.

    The friendly face of `corpuskit train MODEL`, which takes every option of the trainer.

    \b
    Example:
      corpuskit tokenizer train --model byte-bpe --vocab-size 8000 corpus.txt -o tokenizer.json
    """
    import dataclasses

    from corpuskit import registry

    cls = registry.load("trainers", model)
    given = {"vocab_size": vocab_size, "min_frequency": min_frequency, "lowercase": lowercase, "pre_tokenizer": pre_tokenizer or None, "character_coverage": character_coverage}
    options = {name: value for name, value in given.items() if value is not None}
    if special_tokens:
        options["special_tokens"] = [t for item in special_tokens for t in item.split(",") if t]
    fields = {f.name for f in dataclasses.fields(cls.config_class)}
    for name in options:
        if name not in fields:
            raise click.UsageError(f"--{name.replace('_', '-')} does not apply to --model {model}")
    start = time.perf_counter()
    try:
        trainer = cls(**options)
        tok = trainer.train_files(list(inputs), progress=progress, text_field=text_field)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    tok.save(output)
    click.echo(f"{model}: {tok.vocab_size} tokens from {trainer.stats['texts']} texts in {time.perf_counter() - start:.1f}s -> {output}", err=True)


def _lines(path: str):
    if path == "-":
        yield from (line.rstrip("\n") for line in sys.stdin)
        return
    from corpuskit.files import open_text

    with open_text(path) as handle:
        yield from (line.rstrip("\r\n") for line in handle)


@tokenizer.command("encode")
@click.argument("tokenizer_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("file", default="-")
@click.option("--ids", "mode", flag_value="ids", default=True, help="Print ids (default).")
@click.option("--tokens", "mode", flag_value="tokens", help="Print token strings.")
def encode_cmd(tokenizer_file: str, file: str, mode: str) -> None:
    """Encode each line of FILE (or stdin) to one line of space-separated ids or tokens.

    \b
    Example:
      echo "Hello world" | corpuskit tokenizer encode tokenizer.json --tokens
    """
    tok = _load(tokenizer_file)
    for lineno, line in enumerate(_lines(file), 1):
        try:
            ids = tok.encode(line, add_special_tokens=False)
        except ValueError as exc:
            raise click.ClickException(f"{file}:{lineno}: {exc}") from None
        if mode == "tokens":
            click.echo(" ".join(tok.id_to_token(i) or "" for i in ids))
        else:
            click.echo(" ".join(map(str, ids)))


def _load(path: str):
    from corpuskit.tokenizers.tokenizer import Tokenizer

    try:
        return Tokenizer.load(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@tokenizer.command("decode")
@click.argument("tokenizer_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("file", default="-")
def decode_cmd(tokenizer_file: str, file: str) -> None:
    """Decode each line of space-separated ids in FILE (or stdin) back to text.

    \b
    Example:
      corpuskit tokenizer encode tok.json a.txt | corpuskit tokenizer decode tok.json
    """
    tok = _load(tokenizer_file)
    for lineno, line in enumerate(_lines(file), 1):
        try:
            ids = [int(x) for x in line.split()]
            click.echo(tok.decode(ids))
        except (ValueError, KeyError) as exc:
            raise click.ClickException(f"{file}:{lineno}: expected space-separated ids in the vocabulary ({exc})") from None


@tokenizer.command("stats")
@click.argument("tokenizer_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--text-field", default="text", show_default=True)
def stats_cmd(tokenizer_file: str, inputs: tuple[str, ...], text_field: str) -> None:
    """Vocabulary size, bytes per token and share of unknown tokens on some text.

    \b
    Example:
      corpuskit tokenizer stats tokenizer.json test.txt
    """
    from corpuskit.readers import iter_texts
    from corpuskit.tokenizers.stats import tokenizer_stats

    tok = _load(tokenizer_file)
    stats = tokenizer_stats(tok, iter_texts(list(inputs), text_field=text_field))
    for key, value in stats.items():
        click.echo(f"{key}\t{value:.4f}" if isinstance(value, float) else f"{key}\t{value}")
