"""Quickstart stage `30-ngram`: a small order-3 modified Kneser-Ney model on the cleaned sample."""

from __future__ import annotations

from corpuskit.quickstart.context import QuickstartContext


def stage(ctx: QuickstartContext) -> None:
    """Train on 9 of every 10 documents, write ARPA, report held-out perplexity, sample a sentence."""
    from corpuskit.lm.decoding import DecodingConfig
    from corpuskit.lm.ngram import NGramModel, NGramTrainer
    from corpuskit.lm.ngram.sampling import generate_text
    from corpuskit.readers import iter_texts

    train: list[str] = []
    held: list[str] = []
    for i, text in enumerate(iter_texts(str(ctx.corpus))):
        lines = [line.lower() for line in text.split("\n") if line.strip()]
        (held if i % 10 == 9 else train).extend(lines)
    out = ctx.directory / "ngram"
    out.mkdir(parents=True, exist_ok=True)
    model = NGramTrainer(order=3, discount_fallback=True).train(iter(train))
    path = out / "model.arpa"
    model.save(path)
    again = NGramModel.load(path)
    ev = again.evaluate(held)
    ctx.echo(f"ngram: order-3 modified Kneser-Ney, {model.counts()} n-grams -> {path}")
    ctx.echo(f"ngram: held-out perplexity {ev.perplexity:.1f} ({ev.tokens} tokens, {ev.oovs} OOV; {ev.perplexity_excluding_oov:.1f} without OOVs)")
    sample = generate_text(again, "the", DecodingConfig(strategy="top-p", top_p=0.9, max_tokens=20, seed=0))
    ctx.echo(f"ngram: sample: the {sample}")
