"""`corpuskit classifier`: train a fastText quality classifier from two corpora, quantize it, try it.

    corpuskit classifier train --positive curated/ --negative crawl.warc.gz -o quality.bin
    corpuskit classifier quantize quality.bin -o quality.ftz --cutoff 100000
    corpuskit classifier predict quality.bin "some text"

Any corpus `corpuskit.readers.iter_texts` reads (text, JSONL, Parquet, WARC, Wikipedia dumps,
folders) is an input; each document is one example, its whitespace joined into single spaces,
labelled `__label__<positive label>` or `__label__<negative label>`. Kept cheap to import.
"""

from __future__ import annotations

import json
import time

import click


class _Labelled:
    """Re-iterable labelled examples read from the positive then the negative corpora (read twice: count, then train)."""

    def __init__(self, positive: tuple[str, ...], negative: tuple[str, ...], labels: tuple[str, str], limit: int | None, reader: str | None, text_field: str) -> None:
        self.sources = [(positive, labels[0]), (negative, labels[1])]
        self.limit, self.reader, self.text_field = limit, reader, text_field

    def __iter__(self):
        from corpuskit.embeddings.classifier_step import as_line
        from corpuskit.readers import iter_texts

        options = {"text_field": self.text_field} if self.reader in (None, "jsonl", "parquet") else {}
        for inputs, label in self.sources:
            n = 0
            for text in iter_texts(list(inputs), reader=self.reader, **options):
                line = as_line(text)
                if not line:
                    continue
                yield f"__label__{label} {line}"
                n += 1
                if self.limit is not None and n >= self.limit:
                    break


@click.group("classifier")
def classifier() -> None:
    """fastText text classifiers: train one from positive and negative corpora, quantize, predict."""


@classifier.command("train")
@click.option("--positive", multiple=True, required=True, help="Corpus of wanted text (file, folder or glob; repeatable).")
@click.option("--negative", multiple=True, required=True, help="Corpus of unwanted text (repeatable).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Model file (fastText .bin; .ftz quantizes it).")
@click.option("--positive-label", default="positive", show_default=True)
@click.option("--negative-label", default="negative", show_default=True)
@click.option("--max-docs", default=None, type=click.IntRange(1), help="At most this many documents from each side.")
@click.option("--reader", default=None, help="Reader for every input (default: from each file's name).")
@click.option("--text-field", default="text", show_default=True, help="JSONL/Parquet field holding the text.")
@click.option("--dim", default=64, show_default=True, type=click.IntRange(1))
@click.option("--epoch", default=5, show_default=True, type=click.IntRange(1))
@click.option("--lr", default=0.1, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option("--word-ngrams", default=2, show_default=True, type=click.IntRange(1))
@click.option("--min-count", default=3, show_default=True, type=click.IntRange(1))
@click.option("--bucket", default=2_000_000, show_default=True, type=click.IntRange(0))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--cutoff", default=100_000, show_default=True, type=click.IntRange(0), help="With -o X.ftz: input rows kept.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def train_cmd(positive, negative, output, positive_label, negative_label, max_docs, reader, text_field, dim, epoch, lr, word_ngrams, min_count, bucket, threads, seed, cutoff, quiet) -> None:
    """Train a positive-vs-negative classifier (softmax over the two labels).

    Example: corpuskit classifier train --positive data/en/docs --negative crawl.warc.gz -o quality.bin
    """
    from corpuskit.embeddings.supervised import SupervisedTrainer

    if positive_label == negative_label:
        raise click.UsageError("--positive-label and --negative-label must differ")
    corpus = _Labelled(positive, negative, (positive_label, negative_label), max_docs, reader, text_field)
    began = time.perf_counter()
    trainer = SupervisedTrainer(dim=dim, epoch=epoch, lr=lr, word_ngrams=word_ngrams, min_count=min_count, bucket=bucket, threads=threads, seed=seed)
    model = trainer.train(corpus)
    if output.endswith(".ftz"):
        model = model.quantize(cutoff=cutoff, qnorm=True, seed=seed)
    model.save(output)
    if not quiet:
        for report in trainer.history:
            click.echo(f"epoch {report.epoch}: loss {report.loss:.4f}, {report.words_per_second:,.0f} words/s")
        click.echo(f"trained in {time.perf_counter() - began:.1f}s -> {output}")


@classifier.command("quantize")
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Quantized model file (.ftz).")
@click.option("--cutoff", default=0, show_default=True, type=click.IntRange(0), help="Input rows kept (largest norms; 0: all).")
@click.option("--dsub", default=2, show_default=True, type=click.IntRange(1), help="Floats per sub-vector (one byte each).")
@click.option("--qnorm/--no-qnorm", default=True, show_default=True, help="Quantize each row's norm apart.")
@click.option("--qout", is_flag=True, help="Quantize the output matrix too.")
@click.option("--seed", default=1, show_default=True, type=int)
def quantize_cmd(model_path, output, cutoff, dsub, qnorm, qout, seed) -> None:
    """Product-quantize a fastText classifier into a small .ftz that fastText loads too.

    Example: corpuskit classifier quantize quality.bin -o quality.ftz --cutoff 100000
    """
    import os

    from corpuskit.embeddings.supervised import SupervisedModel

    model = SupervisedModel.load(model_path).quantize(cutoff=cutoff, dsub=dsub, qnorm=qnorm, qout=qout, seed=seed)
    model.save(output)
    click.echo(f"{model_path} ({os.path.getsize(model_path):,} bytes) -> {output} ({os.path.getsize(output):,} bytes)")


@classifier.command("predict")
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False))
@click.argument("texts", nargs=-1)
@click.option("-k", default=1, show_default=True, type=int, help="Labels per text (-1: all).")
@click.option("--threshold", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text.")
def predict_cmd(model_path, texts, k, threshold, as_json) -> None:
    """Print the top labels of each text (arguments, or standard input's lines).

    Example: corpuskit classifier predict quality.bin "A well written paragraph."
    """
    from corpuskit.embeddings.classifier_step import as_line
    from corpuskit.embeddings.supervised import SupervisedModel

    model = SupervisedModel.load(model_path)
    lines = texts or tuple(line.rstrip("\n") for line in click.get_text_stream("stdin"))
    for text in lines:
        predictions = model.predict(as_line(text), k, threshold)
        if as_json:
            click.echo(json.dumps({"text": text, "labels": [label for label, _ in predictions], "probabilities": [round(p, 6) for _, p in predictions]}, ensure_ascii=False))
        else:
            click.echo("\t".join(f"{label} {p:.4f}" for label, p in predictions))
