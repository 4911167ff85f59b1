"""Shared fixture for the transformer tests: a finite-difference gradient checker (float64)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _gradcheck(loss: Callable[[], float], x: np.ndarray, analytic: np.ndarray, name: str = "", samples: int = 12, eps: float = 1e-6, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Compare analytic gradient entries with central differences of loss() at random entries of x.

    x is perturbed in place and restored; float64 central differences have error ~eps², so 1e-6
    relative agreement is demanded.
    """
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, size=min(samples, flat.size), replace=False)
    numeric = np.empty(len(idx))
    for n, i in enumerate(idx):
        old = flat[i]
        flat[i] = old + eps
        up = loss()
        flat[i] = old - eps
        down = loss()
        flat[i] = old
        numeric[n] = (up - down) / (2 * eps)
    got = analytic.reshape(-1)[idx]
    bad = np.abs(got - numeric) > atol + rtol * np.abs(numeric)
    assert not bad.any(), f"{name}: analytic {got[bad][:3]} vs numeric {numeric[bad][:3]} at flat index {idx[bad][:3]}"


@pytest.fixture
def gradcheck() -> Callable[..., None]:
    return _gradcheck


def _markov_texts(seed: int, docs: int) -> list[str]:
    """Documents of sentences from a random word bigram chain: learnable structure, no shared data."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(40)]
    follow = rng.dirichlet(np.full(40, 0.05), size=40)
    out = []
    for _ in range(docs):
        w = int(rng.integers(40))
        sentence = []
        for _ in range(int(rng.integers(5, 30))):
            sentence.append(words[w])
            w = int(rng.choice(40, p=follow[w]))
        out.append(" ".join(sentence) + ".")
    return out


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Two text files (one document per line) and a byte-level BPE tokenizer.json with <|endoftext|>."""
    tokenizers = pytest.importorskip("tokenizers")
    root = tmp_path_factory.mktemp("corpus")
    texts = _markov_texts(0, 600)
    (root / "a.txt").write_text("\n".join(texts[:300]) + "\n", encoding="utf-8")
    (root / "b.txt").write_text("\n".join(texts[300:]) + "\n", encoding="utf-8")
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.save(str(root / "tok.json"))
    return root


@pytest.fixture(scope="session")
def data_dir(corpus_dir, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    from corpuskit.lm.transformer.data import prepare

    out = tmp_path_factory.mktemp("data")
    prepare([str(corpus_dir / "a.txt"), str(corpus_dir / "b.txt")], corpus_dir / "tok.json", out, val_fraction=0.1)
    return out
