"""Quickstart stage: train a small byte-level BPE on the pipeline's output and show what it does."""

from __future__ import annotations

from corpuskit.quickstart.context import QuickstartContext


def stage(ctx: QuickstartContext) -> None:
    """Train byte-level BPE (vocab 1,000) on ctx.corpus, save tokenizer.json, echo an encoding and bytes/token."""
    import itertools

    from corpuskit.readers import iter_texts
    from corpuskit.tokenizers.stats import tokenizer_stats
    from corpuskit.tokenizers.trainers import ByteLevelBPETrainer

    out = ctx.directory / "tokenizer"
    out.mkdir(parents=True, exist_ok=True)
    tok = ByteLevelBPETrainer(vocab_size=1000).train(iter_texts(str(ctx.corpus)))
    path = out / "tokenizer.json"
    tok.save(path)
    sample = next(iter(iter_texts(str(ctx.corpus))), "Hello world")[:80]
    ids = tok.encode(sample)
    pieces = [tok.decode([i]) for i in ids[:12]]
    stats = tokenizer_stats(tok, itertools.islice(iter_texts(str(ctx.corpus)), 200))
    ctx.echo(f"tokenizer: byte-level BPE, {tok.vocab_size} tokens -> {path}")
    ctx.echo(f"tokenizer: {sample!r}")
    ctx.echo(f"tokenizer: -> {len(ids)} tokens {pieces} ...")
    ctx.echo(f"tokenizer: {stats['bytes_per_token']:.2f} bytes/token on {stats['texts']} documents")
