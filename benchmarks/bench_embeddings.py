"""Embeddings benchmark: corpuskit against gensim (word2vec, fastText) and Stanford GloVe, side by side.

    .venv/bin/python benchmarks/bench_embeddings.py [--quick] [--seeds 3]

Both tools see the same corpus (../shared/data/en/train.txt), tokenised by corpuskit's tokenizer
(gensim gets the token lists), with dim 100, window 5, min_count 5, negative 5, sample 1e-3,
5 epochs, 2 workers. Speed: training words/s (vocabulary words per second of the training
epochs) and total wall time including vocabulary building (ours also tokenises inside that time).
Quality: analogy accuracy (questions-words, restrict_vocab 30,000) and wordsim353/simlex999
Spearman, mean over seeds, all scored by the same evaluation code. GloVe: Stanford's build, found
through $GLOVE_BUILD_DIR (a folder with vocab_count, cooccur, shuffle, glove), run with its
demo settings (window 15, x_max 10, 15 iterations) at dim 100 and 2 threads.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import format_table, peak_rss_mb, record, shared_data  # noqa: E402

from corpuskit.embeddings.evaluate import default_dataset, evaluate_analogies, evaluate_word_pairs  # noqa: E402
from corpuskit.embeddings.keyed_vectors import KeyedVectors  # noqa: E402
from corpuskit.embeddings.tokenize import tokenize  # noqa: E402

COMMON = dict(dim=100, window=5, min_count=5, negative=5, sample=1e-3, epochs=5, workers=2)
CONFIGS = {
    "SG-NS": dict(model="word2vec", arch="sg", loss="ns"),
    "CBOW-NS": dict(model="word2vec", arch="cbow", loss="ns"),
    "SG-HS": dict(model="word2vec", arch="sg", loss="hs"),
    "fastText SG-NS": dict(model="fasttext", arch="sg", loss="ns"),
}


def quality(kv: KeyedVectors) -> tuple[float, float, float]:
    analogies = evaluate_analogies(kv, default_dataset("questions-words.txt"), restrict_vocab=30_000)
    ws = evaluate_word_pairs(kv, default_dataset("wordsim353.tsv")).spearman
    sl = evaluate_word_pairs(kv, default_dataset("simlex999.txt")).spearman
    return 100 * analogies.accuracy, 100 * ws, 100 * sl


def run_ours(lines: list[str], config: dict, seed: int) -> tuple[KeyedVectors, float, float]:
    from corpuskit.embeddings.fasttext import FastTextTrainer
    from corpuskit.embeddings.word2vec import Word2VecTrainer

    cls = FastTextTrainer if config["model"] == "fasttext" else Word2VecTrainer
    trainer = cls(arch=config["arch"], loss=config["loss"], seed=seed, **COMMON)
    start = time.perf_counter()
    kv = trainer.train(iter(lines))
    wall = time.perf_counter() - start
    words = sum(r.words for r in trainer.history)
    return kv, words / sum(r.seconds for r in trainer.history), wall


def run_gensim(sentences: list[list[str]], config: dict, seed: int) -> tuple[KeyedVectors, float, float]:
    from gensim.models import FastText, Word2Vec

    cls = FastText if config["model"] == "fasttext" else Word2Vec
    hs = config["loss"] == "hs"
    model = cls(
        vector_size=COMMON["dim"], window=COMMON["window"], min_count=COMMON["min_count"], negative=0 if hs else COMMON["negative"],
        hs=int(hs), sg=int(config["arch"] == "sg"), sample=COMMON["sample"], workers=COMMON["workers"], seed=seed,
    )
    start = time.perf_counter()
    model.build_vocab(sentences)
    began = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=COMMON["epochs"])
    end = time.perf_counter()
    words = COMMON["epochs"] * sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key)
    kv = KeyedVectors(model.wv.index_to_key, model.wv.vectors)
    return kv, words / (end - began), end - start


def bench_word2vec(lines, sentences, seeds, names, rows_speed, rows_quality):
    for name in names:
        config = CONFIGS[name]
        speeds = {"ours": [], "gensim": []}
        walls = {"ours": [], "gensim": []}
        scores = {"ours": [], "gensim": []}
        for seed in seeds:
            for tool in ("gensim", "ours"):
                kv, wps, wall = run_ours(lines, config, seed) if tool == "ours" else run_gensim(sentences, config, seed)
                speeds[tool].append(wps)
                walls[tool].append(wall)
                scores[tool].append(quality(kv))
                print(f"{name} seed {seed} {tool}: {wps:,.0f} words/s, wall {wall:.1f}s, quality {np.round(scores[tool][-1], 2)}", flush=True)
        ours_wps, theirs_wps = np.mean(speeds["ours"]), np.mean(speeds["gensim"])
        rows_speed.append([name, theirs_wps, ours_wps, ours_wps / theirs_wps, np.mean(walls["gensim"]), np.mean(walls["ours"])])
        ours_q, theirs_q = np.mean(scores["ours"], axis=0), np.mean(scores["gensim"], axis=0)
        rows_quality.append([name, *[f"{t:.2f} / {o:.2f} ({o - t:+.2f})" for t, o in zip(theirs_q, ours_q)]])


def bench_most_similar(lines, sentences, rows):
    from gensim.models import Word2Vec

    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, workers=2, epochs=1, seed=1)
    ours = KeyedVectors(model.wv.index_to_key, model.wv.vectors)
    queries = model.wv.index_to_key[:500]
    model.wv.most_similar(queries[0])
    ours.most_similar(queries[0])
    start = time.perf_counter()
    theirs_top = [model.wv.most_similar(q, topn=10) for q in queries]
    theirs_time = (time.perf_counter() - start) / len(queries)
    start = time.perf_counter()
    ours_top = [ours.most_similar(q, topn=10) for q in queries]
    ours_time = (time.perf_counter() - start) / len(queries)
    start = time.perf_counter()
    ours.nearest(ours.vectors[:500], topn=11)
    batched = (time.perf_counter() - start) / len(queries)
    agree = np.mean([[w for w, _ in a] == [w for w, _ in b] for a, b in zip(theirs_top, ours_top)])
    rows.append([len(ours), 1e3 * theirs_time, 1e3 * ours_time, theirs_time / ours_time, 1e3 * batched, f"{100 * agree:.1f}%"])


def bench_glove(lines, sentences, quick, rows):
    from corpuskit.embeddings.glove import GloVeTrainer

    settings = dict(dim=100, window=15, min_count=5, x_max=10.0, epochs=15, workers=2)
    trainer = GloVeTrainer(**settings)
    start = time.perf_counter()
    kv = trainer.train(iter(lines))
    ours_wall = time.perf_counter() - start
    ours_q = quality(kv)
    build = os.environ.get("GLOVE_BUILD_DIR")
    if not build or not (Path(build) / "glove").exists():
        print("GLOVE_BUILD_DIR is not set (or lacks the glove binary): reporting corpuskit GloVe alone")
        rows.append(["corpuskit", ours_wall, *[round(q, 2) for q in ours_q], trainer.pairs])
        return
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
        start = time.perf_counter()
        sh = (
            f"{build}/vocab_count -min-count 5 -verbose 0 < {corpus} > {tmp}/vocab.txt && "
            f"{build}/cooccur -memory 4.0 -vocab-file {tmp}/vocab.txt -verbose 0 -window-size 15 < {corpus} > {tmp}/cooc.bin && "
            f"{build}/shuffle -memory 4.0 -verbose 0 < {tmp}/cooc.bin > {tmp}/cooc.shuf.bin && "
            f"{build}/glove -save-file {tmp}/vectors -threads 2 -input-file {tmp}/cooc.shuf.bin -x-max 10 -iter 15 "
            f"-vector-size 100 -binary 0 -write-header 1 -vocab-file {tmp}/vocab.txt -verbose 0"
        )
        subprocess.run(sh, shell=True, check=True, cwd=tmp)
        theirs_wall = time.perf_counter() - start
        # glove.c's header counts the vocabulary but it also writes an "<unk>" row: drop it
        rows_text = [r for r in (Path(tmp) / "vectors.txt").read_text().splitlines()[1:] if not r.startswith("<unk> ")]
        fixed = Path(tmp) / "vectors.fixed.txt"
        fixed.write_text(f"{len(rows_text)} 100\n" + "\n".join(rows_text) + "\n")
        theirs = KeyedVectors.load(fixed)
    theirs_q = quality(theirs)
    rows.append(["Stanford GloVe (C)", theirs_wall, *[round(q, 2) for q in theirs_q], "-"])
    rows.append(["corpuskit", ours_wall, *[round(q, 2) for q in ours_q], trainer.pairs])
    rows.append(["ratio ours/theirs (wall)", ours_wall / theirs_wall, "", "", "", ""])


def print_only(title, header, rows, command, notes="") -> None:
    """record() without the RESULTS.md append, for trial runs."""
    print(f"\n## {title}\n\n{format_table(header, rows)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the corpus, one seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", default=",".join(CONFIGS), help="comma-separated configurations")
    parser.add_argument("--skip-glove", action="store_true")
    parser.add_argument("--skip-training", action="store_true", help="only the most_similar latency and GloVe parts")
    parser.add_argument("--dry-run", action="store_true", help="print the tables without appending them to RESULTS.md")
    args = parser.parse_args()
    if args.dry_run:
        global record
        record = print_only
    lines = shared_data("en/train.txt").read_text(encoding="utf-8").splitlines()
    if args.quick:
        lines = lines[: len(lines) // 5]
    sentences = [s for s in (tokenize(line) for line in lines) if s]
    tokens = sum(map(len, sentences))
    print(f"corpus: {len(lines):,} lines, {tokens:,} tokens")
    seeds = [1] if args.quick else list(range(1, args.seeds + 1))
    command = "GLOVE_BUILD_DIR=... .venv/bin/python " + " ".join(sys.argv)
    note = f"Corpus: en/train.txt{' (first fifth)' if args.quick else ''}, {tokens:,} tokens. Shared 2-core machine: figures are noisy, read the ratios."
    speed, quality_rows, latency, glove = [], [], [], []
    if not args.skip_training:
        bench_word2vec(lines, sentences, seeds, args.only.split(","), speed, quality_rows)
        record(
            "Embeddings: training speed vs gensim", ["model", "gensim words/s", "ours words/s", "ours/gensim", "gensim wall s", "ours wall s"],
            speed, command, note + f" Seeds {seeds}; peak RSS {peak_rss_mb():,.0f} MiB (both tools in one process).",
        )
        record(
            "Embeddings: quality vs gensim (gensim / ours (diff), mean of seeds)",
            ["model", "analogy acc %", "wordsim353 rho x100", "simlex999 rho x100"], quality_rows, command, note,
        )
    bench_most_similar(lines, sentences, latency)
    record(
        "Embeddings: most_similar latency (same vectors)", ["words", "gensim ms/query", "ours ms/query", "speed-up", "ours batched ms/query", "same top-10"],
        latency, command, note,
    )
    if not args.skip_glove:
        bench_glove(lines, sentences, args.quick, glove)
        record(
            "Embeddings: GloVe vs Stanford GloVe (window 15, x_max 10, 15 iterations, dim 100, 2 threads)",
            ["tool", "wall s", "analogy acc %", "wordsim353 rho x100", "simlex999 rho x100", "co-occurrence entries"], glove, command, note,
        )


if __name__ == "__main__":
    main()
