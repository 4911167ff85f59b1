"""`corpuskit embed`: train word vectors, query them, evaluate them, plot them.

Only click is imported here; numba, gensim and matplotlib load inside the commands that need them.
"""

from __future__ import annotations

import json
import os

import click

MODELS = ("word2vec", "glove", "fasttext")
FORMATS = ("npz", "word2vec", "word2vec-binary", "glove", "fasttext")  # as corpuskit.embeddings.formats.FORMATS


class _Commands(click.Group):
    """Broken input or a bad option ends with its one-line message, not a traceback (or click's
    bare "Aborted!", which is what an EOFError from a cut file would print)."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        from corpuskit.document import CorpusError

        try:
            return super().invoke(ctx)
        except (CorpusError, ValueError, OSError, EOFError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group("embed", cls=_Commands)
def embed() -> None:
    """Word embeddings: word2vec, GloVe, fastText; similarity, analogies, evaluation, plots.

    \b
    Examples:
      corpuskit embed train corpus.txt -o vectors.npz --model word2vec --arch sg --epochs 5
      corpuskit embed similar vectors.npz king --topn 10
      corpuskit embed analogy vectors.npz man king woman      # man : king :: woman : ?
      corpuskit embed evaluate vectors.npz
      corpuskit embed plot vectors.npz king queen man woman -o words.png
    """


def _load(path: str, fmt: str | None = None):
    from corpuskit.document import CorpusError
    from corpuskit.embeddings.formats import load_vectors

    try:
        return load_vectors(path, fmt)
    except (CorpusError, OSError, ValueError, EOFError) as exc:
        raise click.ClickException(str(exc)) from None


# `embed train` options (each the config field of that name) and the models that use them; an option is
# passed only when given, and giving one the chosen model does not use is an error. GloVe's config also has an
# `alpha` (its weighting exponent), but `--alpha` is word2vec's learning rate: GloVe's is `--eta`.
COMMON_OPTIONS = ("dim", "window", "min_count", "max_vocab_size", "epochs", "workers", "seed")
MODEL_OPTIONS = {
    "arch": ("word2vec", "fasttext"), "loss": ("word2vec", "fasttext"), "negative": ("word2vec", "fasttext"),
    "sample": ("word2vec", "fasttext"), "alpha": ("word2vec", "fasttext"),
    "minn": ("fasttext",), "maxn": ("fasttext",), "bucket": ("fasttext",),
    "eta": ("glove",), "x_max": ("glove",), "memory_mb": ("glove",),
}


@embed.command("train")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Vectors file (.npz native, .bin word2vec binary (fastText model for --model fasttext), .txt/.vec text).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Override the format the extension implies.")
@click.option("--model", type=click.Choice(MODELS), default="word2vec", show_default=True)
@click.option("--arch", type=click.Choice(["sg", "cbow"]), default="sg", show_default=True, help="word2vec/fastText: skip-gram or CBOW.")
@click.option("--loss", type=click.Choice(["ns", "hs"]), default="ns", show_default=True, help="word2vec/fastText: negative sampling or hierarchical softmax.")
@click.option("--dim", default=100, show_default=True)
@click.option("--window", default=None, type=int, help="Context window (default 5; GloVe 10).")
@click.option("--min-count", default=5, show_default=True)
@click.option("--max-vocab-size", default=None, type=int, help="Keep only this many most frequent words.")
@click.option("--negative", default=5, show_default=True, help="word2vec/fastText: negative samples.")
@click.option("--sample", default=1e-3, show_default=True, help="word2vec/fastText: sub-sampling threshold for frequent words (0: off).")
@click.option("--epochs", default=None, type=int, help="Passes over the corpus (default 5; GloVe 15).")
@click.option("--alpha", default=None, type=float, help="word2vec/fastText: initial learning rate (default 0.025).")
@click.option("--eta", default=None, type=float, help="GloVe: AdaGrad initial learning rate (default 0.05).")
@click.option("--workers", default=os.cpu_count() or 1, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--minn", default=3, show_default=True, help="fastText: shortest character n-gram.")
@click.option("--maxn", default=6, show_default=True, help="fastText: longest character n-gram.")
@click.option("--bucket", default=2_000_000, show_default=True, help="fastText: n-gram hash rows.")
@click.option("--x-max", default=100.0, show_default=True, help="GloVe: weighting cap.")
@click.option("--memory-mb", default=512, show_default=True, help="GloVe: co-occurrence counting memory before spilling to disk.")
@click.option("--text-field", default="text", show_default=True, help="JSONL/Parquet field holding the text.")
@click.option("--no-lowercase", is_flag=True, help="Keep case when tokenising.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def train_cmd(ctx, inputs, output, fmt, model, text_field, no_lowercase, quiet, **settings) -> None:
    """Train vectors on INPUT files (text, JSONL, Parquet, WARC, pipeline output folders...).

    The model's trainer comes from the registry; an option the model does not use is an error.

    \b
    Example:
      corpuskit embed train data/*.jsonl.gz -o vectors.bin --model fasttext --dim 100 --workers 4
    """
    import dataclasses

    from click.core import ParameterSource

    from corpuskit.document import CorpusError
    from corpuskit.embeddings.formats import save_vectors
    from corpuskit.readers import iter_texts
    from corpuskit.registry import load

    trainer_class = load("trainers", model)
    fields = {f.name for f in dataclasses.fields(trainer_class.config_class)}
    options = {"lowercase": not no_lowercase, "workers": settings["workers"]}
    for name in (*COMMON_OPTIONS, *MODEL_OPTIONS):
        if ctx.get_parameter_source(name) in (ParameterSource.DEFAULT, None):
            continue
        users = MODEL_OPTIONS.get(name, MODELS)
        if model not in users or name not in fields:
            flag = "--" + name.replace("_", "-")
            hint = "; GloVe's learning rate is --eta" if name == "alpha" else ""
            raise click.UsageError(f"{flag} is not an option of --model {model} (only of {', '.join(users)}){hint}", ctx)
        options[name] = settings[name]
    try:
        trainer = trainer_class(**options)
        kv = trainer.train(iter_texts(list(inputs), text_field=text_field), progress=not quiet)
    except (CorpusError, FileNotFoundError, ValueError) as exc:  # a bad option or input: its message, no traceback
        raise click.ClickException(str(exc)) from None
    save_vectors(kv, output, fmt)
    click.echo(f"vocabulary: {len(kv)} words, dim {kv.vector_size}")
    for report in trainer.history:
        click.echo(f"epoch {report.epoch}: loss {report.loss:.4f}, {report.words_per_second:,.0f} words/s")
    click.echo(f"wrote {output}")


@embed.command("similar")
@click.argument("vectors", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Format of VECTORS (default: recognised from its content).")
@click.argument("word")
@click.option("--topn", default=10, show_default=True)
def similar_cmd(vectors: str, fmt: str | None, word: str, topn: int) -> None:
    """Nearest words to WORD by cosine similarity."""
    kv = _load(vectors, fmt)
    try:
        results = kv.most_similar(word, topn=topn)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    for neighbour, score in results:
        click.echo(f"{neighbour}\t{score:.4f}")


@embed.command("analogy")
@click.argument("vectors", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Format of VECTORS (default: recognised from its content).")
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option("--topn", default=5, show_default=True)
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True, help="3CosAdd or 3CosMul.")
def analogy_cmd(vectors: str, fmt: str | None, a: str, b: str, c: str, topn: int, method: str) -> None:
    """A : B :: C : ?  (e.g. man king woman -> queen)."""
    kv = _load(vectors, fmt)
    try:
        results = kv.analogy(a, b, c, topn=topn, method=method)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    for word, score in results:
        click.echo(f"{word}\t{score:.4f}")


@embed.command("evaluate")
@click.argument("vectors", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Format of VECTORS (default: recognised from its content).")
@click.option("--analogies", default=None, type=click.Path(exists=True, dir_okay=False), help="questions-words format (default: gensim's copy).")
@click.option("--pairs", multiple=True, type=click.Path(exists=True, dir_okay=False), help="word-pair files (default: wordsim353 and simlex999 from gensim).")
@click.option("--restrict-vocab", default=30_000, show_default=True, help="Analogies consider only this many most frequent words.")
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_cmd(vectors: str, fmt: str | None, analogies: str | None, pairs: tuple[str, ...], restrict_vocab: int, method: str, as_json: bool) -> None:
    """Analogy accuracy (per section and total) and word-pair Spearman correlations."""
    from corpuskit.embeddings.evaluate import DEFAULT_ANALOGIES, DEFAULT_PAIRS, default_dataset, evaluate_analogies, evaluate_word_pairs

    kv = _load(vectors, fmt)
    analogy_path = analogies or default_dataset(DEFAULT_ANALOGIES)
    pair_paths = list(pairs) or [default_dataset(name) for name in DEFAULT_PAIRS]
    result = evaluate_analogies(kv, analogy_path, restrict_vocab=restrict_vocab, method=method)
    pair_results = {os.path.basename(str(p)): evaluate_word_pairs(kv, p) for p in pair_paths}
    if as_json:
        click.echo(json.dumps({"analogies": result.to_dict(), "pairs": {k: v.to_dict() for k, v in pair_results.items()}}, indent=2))
        return
    for section in result.sections:
        click.echo(f"{section.name:32s} {section.accuracy:7.2%}  ({section.correct}/{section.total})")
    click.echo(f"{'analogies total':32s} {result.accuracy:7.2%}  ({result.correct}/{result.covered}; {result.covered}/{result.questions} questions covered)")
    for name, pr in pair_results.items():
        click.echo(f"{name:32s} spearman {pr.spearman:.4f}  ({pr.covered}/{pr.pairs} pairs covered)")


@embed.command("plot")
@click.argument("vectors", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Format of VECTORS (default: recognised from its content).")
@click.argument("words", nargs=-1, required=True)
@click.option("-o", "--output", default="words.png", show_default=True, type=click.Path(dir_okay=False))
@click.option("--method", type=click.Choice(["pca", "tsne"]), default="pca", show_default=True)
@click.option("--seed", default=0, show_default=True)
def plot_cmd(vectors: str, fmt: str | None, words: tuple[str, ...], output: str, method: str, seed: int) -> None:
    """Picture of WORDS in 2-D (PCA or t-SNE of their unit vectors)."""
    from corpuskit.embeddings.plot import plot_words

    kv = _load(vectors, fmt)
    missing = [w for w in words if w not in kv]
    if missing:
        raise click.ClickException(f"not in the vocabulary: {', '.join(missing)}")
    plot_words(kv, list(words), output, method=method, seed=seed)
    click.echo(f"wrote {output}")
