"""Reading a Facebook fastText `.bin`: corpuskit's `load_vectors` against gensim's `load_facebook_model`.

    .venv/bin/python benchmarks/bench_fasttext_vectors.py [--words 100000] [--bucket 200000]

A synthetic unsupervised model (random words of 3-11 letters, dim 100, minn 3, maxn 6) is written
with our fastText writer, then loaded by both in this process: time to a queryable object, and
2,000 out-of-vocabulary lookups. Both compute every word's vector from its n-gram rows on load
(gensim in a Python loop over words, ours column by column per 4,096 words); the vectors must be
bit-identical (checked here). Peak memory is this process's, so it covers both loaders.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record, timed  # noqa: E402

from corpuskit.embeddings.formats import load_vectors  # noqa: E402
from corpuskit.embeddings.keyed_vectors import KeyedVectors  # noqa: E402

LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyzäöüé"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--bucket", type=int, default=200_000)
    args = parser.parse_args()
    logging.getLogger("gensim").setLevel(logging.ERROR)
    from gensim.models.fasttext import load_facebook_model

    rng = np.random.default_rng(0)
    words = list(dict.fromkeys("".join(rng.choice(LETTERS, rng.integers(3, 12))) for _ in range(args.words * 2)))[: args.words]
    kv = KeyedVectors(words, rng.normal(size=(len(words), 100)).astype(np.float32), counts=np.arange(len(words), 0, -1),
                      ngram_vectors=rng.normal(size=(args.bucket, 100)).astype(np.float32), minn=3, maxn=6)
    oov = ["".join(rng.choice(LETTERS, 9)) for _ in range(2000)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.bin"
        kv.save(path)
        t_ours, ours = timed(lambda: load_vectors(path))
        t_gensim, model = timed(lambda: load_facebook_model(str(path)))
        theirs = model.wv
        q_ours, _ = timed(lambda: [ours[w] for w in oov])
        q_gensim, _ = timed(lambda: [theirs[w] for w in oov])
        if not np.array_equal(ours.vectors, theirs.vectors) or any(not np.allclose(ours[w], theirs[w], rtol=0, atol=1e-6) for w in oov):
            sys.exit("vectors differ from gensim's")
    rows = [
        (f"load ({len(words):,} words, {args.bucket:,} buckets)", "s", t_ours, t_gensim, t_ours / t_gensim),
        ("2,000 OOV lookups", "s", q_ours, q_gensim, q_ours / q_gensim),
    ]
    record("fastText .bin vectors: corpuskit load_vectors vs gensim load_facebook_model", ("measure", "unit", "corpuskit", "gensim", "ours / gensim"),
           rows, f"python benchmarks/bench_fasttext_vectors.py --words {args.words} --bucket {args.bucket}",
           "Vectors bit-identical to gensim's. Shared 2-core machine (other engineers' jobs running): ratios noisy. gensim's load also reads the output matrix.")


if __name__ == "__main__":
    main()
