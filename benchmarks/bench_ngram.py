"""n-gram LM benchmark: corpuskit vs KenLM (lmplz build, `kenlm` module queries) on en/train.txt -> en/test.txt.

Preprocessing as the issue states: ASCII lower-casing (what `tr '[:upper:]' '[:lower:]'` does),
one line = one sentence, words split on whitespace; perplexity = 10^(-sum log10 p / (words + lines)).
lmplz is found through $KENLM_BIN (the folder holding lmplz, built from kpu/kenlm); without it
the build-time comparison is skipped and said so.

    KENLM_BIN=/tmp/kenlm-build/build/bin .venv/bin/python benchmarks/bench_ngram.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, record, shared_data, timed  # noqa: E402


BUILD = """
import sys, time
from corpuskit.lm.ngram import NGramTrainer
path, order, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
with open(path, encoding="utf-8", errors="surrogateescape", newline="\\n") as handle:
    model = NGramTrainer(order=order).train(line.rstrip("\\n") for line in handle)
t_train = time.perf_counter() - start
start = time.perf_counter()
model.save(out)
print(t_train, time.perf_counter() - start)
"""


def run_measured(command: list[str], stdin, stdout, tmp: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command, measured by GNU time when present.

    (A child's own ru_maxrss would include the pages of this big Python process it was forked from.)
    """
    report = Path(tmp) / "time.txt"
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(report)] if Path("/usr/bin/time").exists() else []
    start = time.perf_counter()
    subprocess.run(timer + command, stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, check=True)
    seconds = time.perf_counter() - start
    rss = float(report.read_text().split()[-1]) / 1024 if timer else float("nan")
    return seconds, rss


def read_lines(path: Path) -> list[str]:
    """Lines lower-cased byte-wise (ASCII only, like GNU tr), split on '\\n' only."""
    text = path.read_bytes().lower().decode("utf-8", errors="surrogateescape")
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="order 3 on the first 20,000 training lines")
    args = parser.parse_args()
    import kenlm
    import numpy as np

    from corpuskit.lm.ngram import NGramModel, NGramTrainer

    train = read_lines(shared_data("en/train.txt"))
    test = read_lines(shared_data("en/test.txt"))
    orders = [3] if args.quick else [3, 5]
    if args.quick:
        train = train[:20_000]
    kenlm_bin = os.environ.get("KENLM_BIN")
    lmplz = Path(kenlm_bin) / "lmplz" if kenlm_bin else None
    if lmplz is None or not lmplz.exists():
        print("KENLM_BIN is not set to a folder with lmplz: build-time comparison skipped "
              "(build kpu/kenlm with cmake; see docs/lm.md)")
        lmplz = None
    NGramTrainer(order=2, discount_fallback=True).train(train[:200]).save(Path(tempfile.gettempdir()) / "warm.arpa")  # compile kernels once
    rows = []
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        train_path = Path(tmp) / "train.lc"
        train_path.write_text("\n".join(train) + "\n", encoding="utf-8", errors="surrogateescape")
        for order in orders:
            # the build runs in a fresh process (like lmplz), reading the file, so its peak RSS is its own
            ours_arpa = Path(tmp) / f"ours{order}.arpa"
            output = Path(tmp) / "build.out"
            with open(output, "w") as out:
                _, ours_rss = run_measured([sys.executable, "-c", BUILD, str(train_path), str(order), str(ours_arpa)], None, out, tmp)
            t_train, t_write = (float(x) for x in output.read_text().split()[-2:])
            ours_build = t_train + t_write
            model = NGramModel.load(ours_arpa)
            ev = model.evaluate(test)
            ref_ours = kenlm.Model(str(ours_arpa))
            theirs_on_ours = np.asarray([ref_ours.score(line) for line in test])
            ours_scores = model.score_batch(test)
            line_rel = float(np.max(np.abs(theirs_on_ours - ours_scores) / np.maximum(np.abs(ours_scores), 1.0)))
            ours_tokens = np.concatenate([[p for p, _, _ in model.full_scores(line)] for line in test])
            theirs_tokens = np.concatenate([[p for p, _, _ in ref_ours.full_scores(line)] for line in test])
            max_diff = float(np.max(np.abs(ours_tokens - theirs_tokens)))
            lmplz_time = lmplz_rss = lmplz_ppl = float("nan")
            if lmplz is not None:
                lm_arpa = Path(tmp) / f"lmplz{order}.arpa"
                with open(train_path, "rb") as src, open(lm_arpa, "wb") as dst:
                    lmplz_time, lmplz_rss = run_measured([str(lmplz), "-o", str(order), "-S", "2G", "-T", tmp], src, dst, tmp)
                ref = kenlm.Model(str(lm_arpa))
                lmplz_ppl = 10 ** (-sum(ref.score(line) for line in test) / ev.tokens)
            # query speed: batch API vs the kenlm module's per-sentence score, same sentences
            reps = 3 if args.quick else 10
            corpus = test * reps
            n_tokens = ev.tokens * reps
            t_ours = t_kenlm = float("inf")
            for _ in range(5):  # interleaved, best of 5 each: the machine's load changes under us
                t_ours = min(t_ours, timed(lambda: model.score_batch(corpus))[0])
                t_kenlm = min(t_kenlm, timed(lambda: [ref_ours.score(line) for line in corpus])[0])
            rows.append([order, f"{ev.perplexity:.1f}", f"{lmplz_ppl:.1f}", f"{(ev.perplexity / lmplz_ppl - 1) * 100:+.3f}%",
                         f"{max_diff:.1e} / {line_rel:.1e}", f"{t_train:.2f}+{t_write:.2f}", f"{lmplz_time:.2f}", f"{ours_build / lmplz_time:.2f}",
                         f"{ours_rss:.0f}", f"{lmplz_rss:.0f}", f"{n_tokens / t_ours / 1e6:.2f}", f"{n_tokens / t_kenlm / 1e6:.2f}", f"{t_kenlm / t_ours:.2f}"])
            notes.append(f"order {order}: {ev.tokens:,} scored tokens, {ev.oovs:,} OOV, n-grams {model.counts()}")
            del model, ref_ours
    notes.append("Per-line totals differ more than per-token scores on long lines because the kenlm module sums a "
                 "sentence in float32 (a 3,384-token line sums to -16,292, where float32 steps are 0.002); lmplz run with -S 2G.")
    notes.append(f"peak RSS of the Python process (ours + kenlm module models): {peak_rss_mb():.0f} MiB. "
                 "2 shared cores: times are noisy, compare ratios.")
    record("n-gram LM: corpuskit vs KenLM (lmplz + kenlm module)" + (" [quick]" if args.quick else ""),
           ["order", "ppl ours", "ppl lmplz", "diff", "kenlm(our ARPA) vs ours: max abs diff per token / max rel diff per line", "ours build s (train+ARPA)",
            "lmplz s", "build ratio ours/lmplz", "ours peak MiB", "lmplz peak MiB", "ours Mtok/s", "kenlm Mtok/s", "query speedup ours/kenlm"],
           rows, "KENLM_BIN=/path/to/kenlm/build/bin .venv/bin/python benchmarks/bench_ngram.py" + (" --quick" if args.quick else ""),
           "\n".join(notes))


if __name__ == "__main__":
    main()
