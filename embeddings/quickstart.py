"""Quickstart stage: a tiny word2vec on the cleaned sample, then a similarity query."""

from __future__ import annotations

from corpuskit.quickstart.context import QuickstartContext


def stage(ctx: QuickstartContext) -> None:
    """Train 50-dim skip-gram vectors on ctx.corpus, save them, echo neighbours of a frequent word."""
    from corpuskit.embeddings.word2vec import Word2VecTrainer
    from corpuskit.readers import iter_texts

    out = ctx.directory / "embeddings"
    out.mkdir(parents=True, exist_ok=True)
    trainer = Word2VecTrainer(dim=50, window=5, min_count=3, epochs=5, workers=max(1, ctx.workers), seed=1)
    kv = trainer.train(iter_texts(str(ctx.corpus)))
    kv.save(out / "vectors.npz")
    kv.save(out / "vectors.vec")
    last = trainer.history[-1]
    ctx.echo(f"embeddings: word2vec on {len(kv)} words, {last.words_per_second:,.0f} words/s -> {out / 'vectors.npz'}")
    word = next((w for w in kv.index_to_key if len(w) >= 6 and w.isalpha()), kv.index_to_key[0])
    neighbours = ", ".join(f"{w} ({s:.2f})" for w, s in kv.most_similar(word, topn=5))
    ctx.echo(f"embeddings: nearest to {word!r}: {neighbours}")
    ctx.echo(f"embeddings: try `corpuskit embed similar {out / 'vectors.npz'} {word}`")
