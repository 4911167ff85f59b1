"""Shared fixtures for the n-gram LM tests: small generated corpora (no shared data, no network)."""

from __future__ import annotations

import numpy as np
import pytest


def markov_sentences(seed: int, n_sentences: int, vocab: int = 300, max_len: int = 12) -> list[str]:
    """Sentences from a random bigram chain over Zipf-distributed words w0..w{vocab-1}.

    Rare words and repeated n-grams at every order, so counts-of-counts look like real text's.
    """
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, vocab + 1)
    zipf /= zipf.sum()
    follow = rng.dirichlet(0.1 * vocab * zipf, size=vocab)
    out = []
    for _ in range(n_sentences):
        length = int(rng.integers(0, max_len + 1))
        w = int(rng.choice(vocab, p=zipf))
        words = []
        for _ in range(length):
            words.append(f"w{w}")
            w = int(rng.choice(vocab, p=follow[w]))
        out.append(" ".join(words))
    return out


@pytest.fixture(scope="session")
def train_sentences() -> list[str]:
    return markov_sentences(1, 600)


@pytest.fixture(scope="session")
def test_sentences() -> list[str]:
    held = markov_sentences(2, 60, vocab=310)  # w300..w309 never occur in training: OOVs
    return held + ["", "w1", "w309 w309", "unknownword w1 w2", "w1 w1 w1 w1 w1"]
