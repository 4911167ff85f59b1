"""BLEU against sacrebleu, ROUGE and perplexity on hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sacrebleu

from corpuskit.lm.metrics import corpus_bleu, lcs_length, perplexity, rouge_l, rouge_n


def random_pairs(seed: int, n: int):
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(12)]
    refs, hyps = [], []
    for _ in range(n):
        ref = list(rng.choice(vocab, size=int(rng.integers(1, 15))))
        hyp = [w if rng.random() < 0.7 else str(rng.choice(vocab)) for w in ref]
        hyp = hyp[: int(rng.integers(1, len(hyp) + 1))] + list(rng.choice(vocab, size=int(rng.integers(0, 3))))
        refs.append(ref)
        hyps.append(hyp)
    return hyps, refs


@pytest.mark.parametrize("smooth", ["exp", "floor", "add-k", "none"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corpus_bleu_agrees_with_sacrebleu(smooth: str, seed: int) -> None:
    hyps, refs = random_pairs(seed, 3 + 7 * seed)
    refs2 = [list(reversed(r)) for r in refs]
    ours = corpus_bleu(hyps, [refs, refs2], smooth=smooth)
    theirs = sacrebleu.corpus_bleu([" ".join(h) for h in hyps], [[" ".join(r) for r in refs], [" ".join(r) for r in refs2]],
                                   tokenize="none", smooth_method=smooth)
    assert ours.score == pytest.approx(theirs.score, abs=0.01)
    assert ours.brevity_penalty == pytest.approx(theirs.bp, abs=1e-4)
    assert (ours.hyp_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)


def test_bleu_perfect_short_and_empty() -> None:
    sentence = "the cat sat on the mat".split()
    assert corpus_bleu([sentence], [[sentence]]).score == pytest.approx(100.0)
    short = corpus_bleu([sentence[:3]], [[sentence]])
    assert short.brevity_penalty == pytest.approx(math.exp(1 - 6 / 3))
    assert corpus_bleu([[]], [[sentence]]).score == 0.0


def test_rouge_n_and_l_by_hand() -> None:
    ref = "the cat was under the bed".split()
    hyp = "the cat was found under the bed".split()
    r1 = rouge_n(hyp, ref, 1)
    assert (r1.precision, r1.recall) == pytest.approx((6 / 7, 6 / 6))
    r2 = rouge_n(hyp, ref, 2)
    assert (r2.precision, r2.recall) == pytest.approx((4 / 6, 4 / 5))
    assert lcs_length(hyp, ref) == 6
    rl = rouge_l(hyp, ref)
    assert rl.f1 == pytest.approx(2 * (6 / 7) * 1 / (6 / 7 + 1))
    assert rouge_n([], ref).f1 == 0.0


def test_perplexity_of_uniform_and_bases() -> None:
    assert perplexity([math.log(0.25)] * 8) == pytest.approx(4.0)
    assert perplexity([-1.0, -1.0], base=10) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        perplexity([])
