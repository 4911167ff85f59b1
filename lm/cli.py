"""`corpuskit lm`: train n-gram models, measure perplexity, generate, score corpora line by line.

Only click is imported here; models and kernels load when a command runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import click


def _sentences(inputs: tuple[str, ...], lowercase: bool) -> Iterator[str]:
    """Every line of every input (one sentence per line, as KenLM reads them).

    Plain text files (.txt, maybe compressed) are read line by line, empty lines included (they
    are sentences `<s> </s>` for KenLM too); other formats go through the core's readers.
    """
    from corpuskit.document import CorpusError, Rejected
    from corpuskit.files import expand_inputs, strip_compression
    from corpuskit.readers import iter_texts
    from corpuskit.readers.lines import numbered_lines

    for path in expand_inputs(list(inputs)):
        if strip_compression(path.name).endswith(".txt"):
            for item in numbered_lines(str(path)):
                if isinstance(item, Rejected):  # a binary, cut or damaged file: stop, naming it
                    raise CorpusError(item.message())
                yield item[1].lower() if lowercase else item[1]
            continue
        for text in iter_texts(str(path)):
            for line in text.split("\n"):
                yield line.lower() if lowercase else line


class _Commands(click.Group):
    """Bad input (a malformed ARPA, an unreadable corpus) ends with its message, not a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        from corpuskit.document import CorpusError

        try:
            return super().invoke(ctx)
        except (CorpusError, ValueError, OSError, EOFError) as exc:  # EOFError: click would print a bare "Aborted!"
            raise click.ClickException(str(exc)) from exc


@click.group("lm", cls=_Commands)
def lm() -> None:
    """Language models: n-gram training (KenLM-compatible ARPA), perplexity, generation, scoring."""


def _mount_transformer() -> None:
    """The `transformer` subgroup lives with its package (lm/transformer/cli.py; click only)."""
    from corpuskit.lm.transformer.cli import transformer

    lm.add_command(transformer)


@lm.group("ngram", cls=_Commands)
def ngram() -> None:
    """n-gram models (modified Kneser-Ney like KenLM's lmplz, KN, add-k, MLE, Stupid Backoff)."""


def _trainer(**options):  # type: ignore[no-untyped-def]
    """The registered `ngram` trainer (the CLI never names the class), built from the options."""
    from corpuskit.registry import load

    return load("trainers", "ngram")(**options)


@ngram.command("train")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Model file: .arpa, .arpa.gz (KenLM/SRILM) or .npz (fast native).")
@click.option("--order", default=3, show_default=True, type=int, help="With count files: theirs unless given.")
@click.option("--smoothing", type=click.Choice(["mkn", "kn", "addk", "mle", "stupid"]), default="mkn", show_default=True)
@click.option("--prune", default="", help="Count cut-off per order, e.g. '0 0 1' drops trigrams seen once (lmplz --prune).")
@click.option("--min-count", default=1, show_default=True, help="Words seen fewer times become <unk>.")
@click.option("--add-k", default=1.0, show_default=True, help="k of add-k smoothing.")
@click.option("--discount-fallback", is_flag=True, help="Use discounts 0.5/1/1.5 where counts-of-counts cannot give them (tiny data).")
@click.option("--memory-mb", default=2048.0, show_default=True, help="Counting memory before sorted runs spill to disk.")
@click.option("--lowercase", is_flag=True, help="Lower-case the text first (with count files: theirs unless given).")
@click.option("--save-counts", default=None, help="Also write the n-gram counts (.npz) for merging or re-estimation.")
@click.pass_context
def train_cmd(ctx, inputs, output, order, smoothing, prune, min_count, add_k, discount_fallback, memory_mb, lowercase, save_counts) -> None:
    """Train an n-gram LM from INPUTS (text, JSONL, Parquet, ... any format the core reads; one sentence per line),
    or from count files (.npz) written by `corpuskit lm ngram count`, which are merged first.

    Example: corpuskit lm ngram train --order 3 train.txt -o model.arpa.gz
    """
    from click.core import ParameterSource

    try:
        thresholds = [int(x) for x in prune.replace(",", " ").split()]
    except ValueError:
        raise click.BadParameter(f"expected integers, got {prune!r}", param_hint="--prune") from None
    counts = None
    if all(name.endswith(".npz") for name in inputs):  # counts from `corpuskit lm ngram count`, maybe of many shards
        counts = _merged_counts(inputs)
        # the counting options default to the counts' own; given ones must agree (train_from_counts checks)
        if ctx.get_parameter_source("order") == ParameterSource.DEFAULT:
            order = counts.config["order"]
        if ctx.get_parameter_source("lowercase") == ParameterSource.DEFAULT:
            lowercase = counts.config["lowercase"]
    trainer = _trainer(order=order, smoothing=smoothing, prune=thresholds, min_count=min_count, add_k=add_k,
                       discount_fallback=discount_fallback, memory_mb=memory_mb, lowercase=lowercase)
    if counts is None:
        counts = trainer.count(_sentences(inputs, False), progress=True)
    if save_counts:
        counts.save(save_counts)
    model = trainer.train_from_counts(counts)
    model.save(output)
    click.echo(f"{output}: order {model.order}, {smoothing}, n-grams per order {model.counts()}")


def _merged_counts(paths: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from corpuskit.lm.ngram import NGramCounts

    return NGramCounts.merge_all([NGramCounts.load(path) for path in paths])


@ngram.command("count")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Counts file (.npz) for `train` (merge shards by passing several).")
@click.option("--order", default=3, show_default=True, type=int)
@click.option("--memory-mb", default=2048.0, show_default=True, help="Counting memory before sorted runs spill to disk.")
@click.option("--lowercase", is_flag=True, help="Lower-case the text first.")
def count_cmd(inputs, output, order, memory_mb, lowercase) -> None:
    """Count the n-grams of INPUTS (e.g. one shard per machine) into a file that `train` accepts.

    Counts of shards merge into exactly the counts of the whole corpus, in any order.
    Example: corpuskit lm ngram count --order 5 shard3.jsonl.gz -o shard3.counts.npz
    """
    counts = _trainer(order=order, memory_mb=memory_mb, lowercase=lowercase).count(_sentences(inputs, False), progress=True)
    counts.save(output)
    click.echo(f"{output}: {counts.sentences} sentences, {counts.tokens} tokens, {len(counts.rows)} distinct {order}-grams")


@ngram.command("perplexity")
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--lowercase", is_flag=True)
def perplexity_cmd(model_path, inputs, lowercase) -> None:
    """Perplexity of MODEL on INPUTS (one sentence per line), with and without OOVs, like KenLM's query."""
    from corpuskit.lm.ngram import NGramModel

    ev = NGramModel.load(model_path).evaluate(_sentences(inputs, lowercase))
    click.echo(f"sentences\t{ev.sentences}\ntokens\t{ev.tokens}\noov\t{ev.oovs}")
    click.echo(f"perplexity\t{ev.perplexity:.4f}\nperplexity_excluding_oov\t{ev.perplexity_excluding_oov:.4f}")
    click.echo(f"cross_entropy_bits\t{ev.cross_entropy_bits:.4f}")


@ngram.command("generate")
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, dir_okay=False))
@click.option("--prompt", default="", help="Text to continue (after <s>).")
@click.option("--strategy", type=click.Choice(["greedy", "beam", "sample", "top-k", "top-p", "typical"]), default="top-p", show_default=True)
@click.option("--max-tokens", default=30, show_default=True)
@click.option("--temperature", default=1.0, show_default=True)
@click.option("--top-k", default=40, show_default=True)
@click.option("--top-p", default=0.9, show_default=True)
@click.option("--typical-p", default=0.9, show_default=True)
@click.option("--beam-size", default=4, show_default=True)
@click.option("--length-penalty", default=1.0, show_default=True, help="Beam score = logprob / length ** this.")
@click.option("--repetition-penalty", default=1.0, show_default=True, help="Hugging Face's; > 1 discourages words already seen.")
@click.option("--frequency-penalty", default=0.0, show_default=True)
@click.option("--presence-penalty", default=0.0, show_default=True)
@click.option("-n", "--samples", default=1, show_default=True, help="Continuations, generated as one batch.")
@click.option("--seed", default=0, show_default=True)
def generate_cmd(model_path, prompt, strategy, max_tokens, temperature, top_k, top_p, typical_p, beam_size, length_penalty,
                 repetition_penalty, frequency_penalty, presence_penalty, samples, seed) -> None:
    """Generate text from an n-gram MODEL.  Example: corpuskit lm ngram generate m.arpa --prompt "the" --strategy top-k"""
    from corpuskit.lm.decoding import DecodingConfig
    from corpuskit.lm.ngram import NGramModel
    from corpuskit.lm.ngram.sampling import generate_texts

    model = NGramModel.load(model_path)
    cfg = DecodingConfig(strategy=strategy, max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                         typical_p=typical_p, beam_size=beam_size, length_penalty=length_penalty,
                         repetition_penalty=repetition_penalty, frequency_penalty=frequency_penalty,
                         presence_penalty=presence_penalty, seed=seed)
    for text in generate_texts(model, [prompt] * samples, cfg):
        click.echo(" ".join(filter(None, [prompt, text])))


@lm.command("score")
@click.argument("model_path", metavar="MODEL", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--no-bos", is_flag=True, help="Do not condition the first word on <s>.")
@click.option("--no-eos", is_flag=True, help="Do not score </s>.")
@click.option("--lowercase", is_flag=True)
@click.option("--batch", default=10_000, show_default=True, help="Sentences scored per batch.")
def score_cmd(model_path, inputs, no_bos, no_eos, lowercase, batch) -> None:
    """Print 'log10prob<TAB>perplexity<TAB>sentence' per line of INPUTS (for filtering corpora by perplexity)."""
    from corpuskit.lm.ngram import NGramModel

    model = NGramModel.load(model_path)
    pending: list[str] = []

    def flush() -> None:
        scores = model.score_batch(pending, bos=not no_bos, eos=not no_eos)
        for sentence, score in zip(pending, scores):
            n = len(sentence.split()) + (0 if no_eos else 1)
            ppl = 10.0 ** (-score / n) if n else float("nan")
            click.echo(f"{score:.4f}\t{ppl:.2f}\t{sentence}")
        pending.clear()

    for sentence in _sentences(inputs, lowercase):
        pending.append(sentence)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()


_mount_transformer()
