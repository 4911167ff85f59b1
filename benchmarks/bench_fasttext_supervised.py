"""fastText supervised classification: corpuskit against fastText's own trainer, side by side.

    .venv/bin/python benchmarks/bench_fasttext_supervised.py [--quick]

Task: the source of each paragraph of ../shared/data/en/docs.jsonl.gz (Brown, ABC, State of the
Union, inaugural, Shakespeare, Lee, head500: 7 labels), trained on the documents of the `train`
split and tested on the `test` split (P@1 = accuracy). Both tools get the same files and settings
(dim 50, epoch 5, lr 0.5, word bigrams, bucket 500,000, min_count 1, 1 thread; softmax), then
quantize with qnorm, cutoff 200,000 (100,000 costs both tools 1.2 points) and no retraining. fastText runs in a venv of its own:
$FASTTEXT_VENV (required; the benchmark says so when it is missing) with the `fasttext-wheel` package; the same run
loads our `.bin` and `.ftz` in fastText to check its accuracy on them equals ours.
Speed: training words/s = tokens * epochs / wall time of the whole training (fastText reads its
file; ours counts, encodes and trains from the same file's lines), and our epochs alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, record, shared_data  # noqa: E402

from corpuskit.embeddings.supervised import SupervisedTrainer, tokenize  # noqa: E402

PARAMS = dict(dim=50, epoch=5, lr=0.5, wordNgrams=2, bucket=500_000, minCount=1, thread=1, loss="softmax")
CUTOFF = 200_000


def paragraphs(limit: int | None) -> tuple[list[str], list[str]]:
    """('__label__source paragraph' lines of the train split, of the test split)."""
    train, test = [], []
    with gzip.open(shared_data("en/docs.jsonl.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            target = train if doc["split"] == "train" else test if doc["split"] == "test" else None
            if target is None:
                continue
            for para in doc["text"].split("\n\n"):
                words = " ".join(tokenize(para))
                if words:
                    target.append(f"__label__{doc['source']} {words}")
    rng = np.random.default_rng(0)
    rng.shuffle(train)  # fastText reads in file order: give both tools a shuffled file
    return (train[:limit] if limit else train), test


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20,000 training paragraphs")
    options = parser.parse_args()
    if not os.environ.get("FASTTEXT_VENV"):
        sys.exit("set FASTTEXT_VENV to a venv holding fastText's trainer: python -m venv DIR && DIR/bin/python -m pip install fasttext-wheel 'numpy<2'")
    venv = Path(os.environ["FASTTEXT_VENV"])
    python = venv / "bin" / "python"
    if not python.exists():
        sys.exit(f"FASTTEXT_VENV={venv}: no {python}; create it with python -m venv {venv} && {python} -m pip install fasttext-wheel 'numpy<2'")
    train, test = paragraphs(20_000 if options.quick else None)
    tokens = sum(len(line.split()) + 1 for line in train)
    with tempfile.TemporaryDirectory(prefix="bench-ft-") as tmp:
        tmp = Path(tmp)
        (tmp / "train.txt").write_text("\n".join(train) + "\n")
        (tmp / "test.txt").write_text("\n".join(test) + "\n")
        ours = {"dim": PARAMS["dim"], "epoch": PARAMS["epoch"], "lr": PARAMS["lr"], "word_ngrams": PARAMS["wordNgrams"], "bucket": PARAMS["bucket"],
                "min_count": PARAMS["minCount"], "threads": PARAMS["thread"], "loss": PARAMS["loss"], "shuffle": False}
        trainer = SupervisedTrainer(**ours)
        began = time.perf_counter()
        model = trainer.train(train)
        our_seconds = time.perf_counter() - began
        epoch_seconds = sum(r.seconds for r in trainer.history)
        our_precision = model.test(test)["precision"]
        model.save(tmp / "ours.bin")
        began = time.perf_counter()
        small = model.quantize(cutoff=CUTOFF, qnorm=True)
        our_quantize = time.perf_counter() - began
        small.save(tmp / "ours.ftz")
        our_precision_ftz = small.test(test)["precision"]
        probe = [" ".join(t for t in line.split() if not t.startswith("__label__")) for line in test[:500]]
        config = {"train": str(tmp / "train.txt"), "test": str(tmp / "test.txt"), "params": PARAMS, "cutoff": CUTOFF, "bin": str(tmp / "ft.bin"),
                  "ftz": str(tmp / "ft.ftz"), "ours_bin": str(tmp / "ours.bin"), "ours_ftz": str(tmp / "ours.ftz"), "probe": probe}
        (tmp / "config.json").write_text(json.dumps(config))
        result = subprocess.run([str(python), str(Path(__file__).with_name("_fasttext_anchor.py")), str(tmp / "config.json")], capture_output=True, text=True, check=True)
        ft = json.loads(result.stdout)
        our_bin_bytes, our_ftz_bytes = (tmp / "ours.bin").stat().st_size, (tmp / "ours.ftz").stat().st_size
        agree_bin = np.mean([model.predict(p)[0][0] == label for p, label in zip(probe, ft["ours_bin_top_labels"])])
        agree_ftz = np.mean([small.predict(p)[0][0] == label for p, label in zip(probe, ft["ours_ftz_top_labels"])])
    wps_ours, wps_ft = tokens * PARAMS["epoch"] / our_seconds, tokens * PARAMS["epoch"] / ft["train_seconds"]
    rows = [
        ["accuracy (P@1), .bin", f"{100 * our_precision:.2f}", f"{100 * ft['precision']:.2f}", f"{100 * (our_precision - ft['precision']):+.2f} points"],
        ["accuracy (P@1), .ftz", f"{100 * our_precision_ftz:.2f}", f"{100 * ft['precision_ftz']:.2f}", f"{100 * (our_precision_ftz - ft['precision_ftz']):+.2f} points"],
        ["training words/s (whole training)", f"{wps_ours:,.0f}", f"{wps_ft:,.0f}", f"{wps_ours / wps_ft:.2f}x"],
        ["training words/s (our epochs alone)", f"{tokens * PARAMS['epoch'] / epoch_seconds:,.0f}", "-", f"{tokens * PARAMS['epoch'] / epoch_seconds / wps_ft:.2f}x"],
        [".bin bytes", f"{our_bin_bytes:,}", f"{ft['bin_bytes']:,}", f"{our_bin_bytes / ft['bin_bytes']:.2f}x"],
        [".ftz bytes (.bin / .ftz)", f"{our_ftz_bytes:,} ({our_bin_bytes / our_ftz_bytes:.0f}x smaller)", f"{ft['ftz_bytes']:,} ({ft['bin_bytes'] / ft['ftz_bytes']:.0f}x smaller)", f"{our_ftz_bytes / ft['ftz_bytes']:.2f}x"],
        ["quantize seconds", f"{our_quantize:.1f}", f"{ft['quantize_seconds']:.1f}", f"{our_quantize / ft['quantize_seconds']:.2f}x"],
        ["our .bin in fastText: P@1, same top label", f"{100 * ft['ours_bin_precision_in_fasttext']:.2f}", f"{100 * agree_bin:.1f}% of 500", ""],
        ["our .ftz in fastText: P@1, same top label", f"{100 * ft['ours_ftz_precision_in_fasttext']:.2f}", f"{100 * agree_ftz:.1f}% of 500", ""],
    ]
    record(
        f"fastText supervised: paragraph source, {len(train):,} train / {len(test):,} test paragraphs, {tokens:,} tokens",
        ["measure", "corpuskit", "fastText", "ours vs fastText"],
        rows,
        "python benchmarks/bench_fasttext_supervised.py" + (" --quick" if options.quick else ""),
        notes=f"Settings: {PARAMS}, quantize qnorm cutoff {CUTOFF} without retraining; ours visits examples in file order like fastText (shuffle off; the file is shuffled once). "
        f"Shared 2-core machine (other sessions running): speeds are noisy. Peak RSS {peak_rss_mb():.0f} MiB.",
    )


if __name__ == "__main__":
    main()
