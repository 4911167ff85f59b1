"""Pipeline steps: language-ID accuracy and speed against fasttext-langdetect, docs/s of each rule.

1. langid/udhr.jsonl: corpuskit's LanguageFilter against `ftlangdetect.detect(text, low_memory=True)`
   (the same lid.176.ftz, reached through FTLANG_CACHE as ANCHOR-TOOLS.md describes), side by side.
2. en/docs.jsonl.gz: documents/s and drops of each step, and of the default chain of them, in
   one process (the runner adds workers on top).

Usage: .venv/bin/python benchmarks/bench_filters.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, record, shared_data, timed  # noqa: E402

from corpuskit.document import Document, Drop  # noqa: E402
from corpuskit.steps import GlobalStep  # noqa: E402


def bench_langid(quick: bool) -> None:
    from corpuskit.filters.fasttext_models import default_lid_model_path
    from corpuskit.filters.langid import LanguageFilter

    with open(shared_data("langid/udhr.jsonl"), encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    if quick:
        records = records[::10]
    texts = [r["text"] for r in records]
    gold = [r["lang"] for r in records]

    cache = tempfile.mkdtemp(prefix="ftlang-")
    os.symlink(default_lid_model_path(), Path(cache) / "lid.176.ftz")
    os.environ["FTLANG_CACHE"] = cache
    import ftlangdetect

    ftlangdetect.detect("warm up", low_memory=True)
    step = LanguageFilter()
    step.detect("warm up")

    t_anchor, anchor = timed(lambda: [ftlangdetect.detect(t, low_memory=True)["lang"] for t in texts], repeat=3)
    t_ours, ours = timed(lambda: [(step.detect(t) or ("", 0.0))[0] for t in texts], repeat=3)
    t_step, _ = timed(lambda: [step.process(Document(r["id"], r["text"])) for r in records], repeat=3)
    accuracy = lambda predicted: sum(p == g for p, g in zip(predicted, gold)) / len(gold)  # noqa: E731
    agree = sum(a == o for a, o in zip(anchor, ours)) / len(texts)
    record(
        f"Language ID on udhr.jsonl ({len(texts)} paragraphs, {len(set(gold))} languages), lid.176.ftz",
        ["method", "accuracy", "docs/s", "ours / anchor speed"],
        [
            ["fasttext-langdetect detect(low_memory=True)", f"{accuracy(anchor):.4f}", f"{len(texts) / t_anchor:,.0f}", "1.00"],
            ["corpuskit LanguageFilter.detect", f"{accuracy(ours):.4f}", f"{len(texts) / t_ours:,.0f}", f"{t_anchor / t_ours:.2f}"],
            ["corpuskit LanguageFilter.process (with metadata)", "-", f"{len(texts) / t_step:,.0f}", f"{t_anchor / t_step:.2f}"],
        ],
        "python benchmarks/bench_filters.py" + (" --quick" if quick else ""),
        notes=f"Labels agree with the anchor on {agree:.2%} of paragraphs. Shared 2-core machine: compare ratios.",
    )


def default_chain() -> list:
    from corpuskit.dedup.exact import ExactDedup
    from corpuskit.dedup.minhash import MinHashDedup
    from corpuskit.filters.c4 import C4Filter
    from corpuskit.filters.fineweb import FineWebFilter
    from corpuskit.filters.gopher import GopherQualityFilter, GopherRepetitionFilter
    from corpuskit.filters.langid import LanguageFilter
    from corpuskit.filters.pii import PIIRedactor
    from corpuskit.filters.toxicity import ToxicityFilter

    return [
        LanguageFilter(languages=["en"]),
        GopherQualityFilter(),
        GopherRepetitionFilter(),
        C4Filter(),
        FineWebFilter(),
        ToxicityFilter(),
        PIIRedactor(),
        ExactDedup(),
        MinHashDedup(),
    ]


def run_step(step, docs: list[Document], state_dir: Path) -> tuple[list[Document], Counter]:
    drops: Counter = Counter()
    if isinstance(step, GlobalStep):
        step.fit([iter(docs)], state_dir / step.name)  # its map and reduce units, one shard, here
    kept = []
    for doc in docs:
        result = step.process(doc)
        if isinstance(result, Drop):
            drops[result.reason] += 1
        else:
            kept.append(result)
    return kept, drops


def fresh(records: list[dict]) -> list[Document]:
    return [Document(r["id"], r["text"], {}) for r in records]


def bench_steps(quick: bool) -> None:
    with gzip.open(shared_data("en/docs.jsonl.gz"), "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    if quick:
        records = records[:400]
    n_words = sum(len(r["text"].split()) for r in records)
    state = Path(tempfile.mkdtemp(prefix="bench-steps-"))
    rows = []
    warm = fresh(records[:3])
    for step in default_chain():
        run_step(step, warm, state)  # load models and numba caches outside the timing
    for step in default_chain():
        docs = fresh(records)
        start = time.perf_counter()
        kept, drops = run_step(step, docs, state)
        seconds = time.perf_counter() - start
        top = ", ".join(f"{reason} {n}" for reason, n in drops.most_common(3)) or "-"
        rows.append([step.name, f"{len(docs) / seconds:,.0f}", f"{n_words / seconds / 1e6:.2f}", len(docs) - len(kept), top])
    docs = fresh(records)
    start = time.perf_counter()
    total = Counter()
    for step in default_chain():
        docs, drops = run_step(step, docs, state)
        total.update({f"{step.name}: {r}": n for r, n in drops.items()})
    seconds = time.perf_counter() - start
    rows.append(["whole chain, in order", f"{len(records) / seconds:,.0f}", f"{n_words / seconds / 1e6:.2f}", len(records) - len(docs), ", ".join(f"{r} {n}" for r, n in total.most_common(3))])
    record(
        f"Pipeline steps on en/docs.jsonl.gz ({len(records)} docs, {n_words:,} words), one process",
        ["step", "docs/s", "M words/s", "dropped", "top reasons"],
        rows,
        "python benchmarks/bench_filters.py" + (" --quick" if quick else ""),
        notes=(
            "Each step alone on every document, then the chain (each step on what the previous kept). "
            "GlobalSteps include map + reduce units + process. No anchor in this venv (datatrove must live in a "
            f"venv of its own, see ANCHOR-TOOLS.md). Shared 2-core machine. Peak RSS {peak_rss_mb():.0f} MiB."
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of udhr, 400 English documents")
    args = parser.parse_args()
    bench_langid(args.quick)
    bench_steps(args.quick)


if __name__ == "__main__":
    main()
