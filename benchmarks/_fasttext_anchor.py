"""Runs inside fastText's own venv (fasttext-wheel): train, test, quantize; and test corpuskit's files.

    python _fasttext_anchor.py CONFIG.json  -> prints one JSON object

Never imported by corpuskit: the `fasttext` trainer must not share the project's venv
(see shared/ANCHOR-TOOLS.md).
"""

import json
import os
import sys
import time

import fasttext


def main() -> None:
    config = json.load(open(sys.argv[1]))
    out = {}
    began = time.perf_counter()
    model = fasttext.train_supervised(input=config["train"], verbose=0, **config["params"])
    out["train_seconds"] = time.perf_counter() - began
    n, precision, _ = model.test(config["test"])
    out["precision"] = precision
    model.save_model(config["bin"])
    began = time.perf_counter()
    model.quantize(input=config["train"], qnorm=True, cutoff=config["cutoff"], retrain=False)
    out["quantize_seconds"] = time.perf_counter() - began
    model.save_model(config["ftz"])
    out["precision_ftz"] = model.test(config["test"])[1]
    out["bin_bytes"], out["ftz_bytes"] = os.path.getsize(config["bin"]), os.path.getsize(config["ftz"])
    for key in ("ours_bin", "ours_ftz"):  # corpuskit's files, read by fastText itself
        theirs = fasttext.load_model(config[key])
        out[f"{key}_precision_in_fasttext"] = theirs.test(config["test"])[1]
        out[f"{key}_top_labels"] = [theirs.predict(line, k=1)[0][0] for line in config["probe"]]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
