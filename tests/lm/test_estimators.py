"""Every smoothing gives the distribution it promises; pruning, vocabularies and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.document import CorpusError
from corpuskit.lm.ngram import NGramModel, NGramTrainer, count_ngrams


def total_mass(model: NGramModel, history: list[int]) -> float:
    p = 10.0 ** model.next_log10probs(history)
    p[1] = 0.0  # <s> is never predicted
    return float(p.sum())


def histories(model: NGramModel, sentences: list[str]) -> list[list[int]]:
    out = [[1]]
    for s in sentences[:15]:
        ids = [1, *model.sentence_ids(s)]
        out += [ids[: i + 1] for i in range(len(ids))]
    return out + [[1, 0], [5, 7, 9]]


@pytest.mark.parametrize("smoothing,options", [("mkn", {}), ("kn", {}), ("addk", {"add_k": 0.5}),
                                               ("mkn", {"prune": [0, 1, 1]}), ("kn", {"prune": [0, 0, 2]}), ("addk", {"prune": [0, 1, 1]})])
def test_distributions_sum_to_one(train_sentences, smoothing, options) -> None:
    model = NGramTrainer(order=3, smoothing=smoothing, **options).train(train_sentences)
    for history in histories(model, train_sentences):
        assert total_mass(model, history) == pytest.approx(1.0, abs=1e-4), history


def test_pruning_drops_rare_ngrams_and_keeps_contexts(train_sentences) -> None:
    full = NGramTrainer(order=3).train(train_sentences)
    pruned = NGramTrainer(order=3, prune=[0, 1, 1]).train(train_sentences)
    assert pruned.counts()[0] == full.counts()[0]
    assert pruned.counts()[1] < full.counts()[1] and pruned.counts()[2] < full.counts()[2]
    counts = count_ngrams(train_sentences, 3)
    seen_once = {tuple(r[r >= 0]) for r, c in zip(counts.rows, counts.counts) if c == 1 and (r >= 0).all()}
    kept = {g for g, _, _ in pruned.ngrams(3)}
    assert not (kept & seen_once)  # a trigram seen once as a maximal n-gram never survives


def test_mle_and_stupid_backoff_by_hand() -> None:
    texts = ["a b", "a b", "a c"]
    mle = NGramTrainer(order=2, smoothing="mle").train(texts)
    ids = mle.vocab.index
    probs = 10.0 ** mle.next_log10probs([ids["a"]])
    assert probs[ids["b"]] == pytest.approx(2 / 3) and probs[ids["c"]] == pytest.approx(1 / 3)
    assert mle.full_scores("a")[1][0] < -90  # </s> never follows a: probability 0 (log10 -99)
    stupid = NGramTrainer(order=2, smoothing="stupid", stupid_alpha=0.4).train(texts)
    # S(</s> | a) = 0.4 * c(</s>) / N; N = 9 tokens with </s>, 3 of them </s>
    assert stupid.full_scores("a")[1][0] == pytest.approx(np.log10(0.4 * 3 / 9), abs=1e-6)
    assert stupid.full_scores("a")[0][0] == pytest.approx(0.0, abs=1e-6)  # S(a | <s>) = 3/3


def test_native_round_trip(train_sentences, test_sentences, tmp_path) -> None:
    model = NGramTrainer(order=3).train(iter(train_sentences))
    model.save(tmp_path / "m.npz")
    again = NGramModel.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.score_batch(test_sentences), model.score_batch(test_sentences))
    assert again.meta["smoothing"] == "mkn" and again.counts() == model.counts()


def test_counts_can_be_precomputed_and_merged(train_sentences) -> None:
    whole = NGramTrainer(order=3).train(train_sentences)
    half = len(train_sentences) // 2
    merged = count_ngrams(train_sentences[:half], 3).merge(count_ngrams(train_sentences[half:], 3))
    model = NGramTrainer(order=3).train_from_counts(merged)
    sample = train_sentences[:30]
    np.testing.assert_allclose(model.score_batch(sample), whole.score_batch(sample), atol=1e-5)


def test_bad_input_is_a_clear_error(train_sentences) -> None:
    with pytest.raises(CorpusError, match="empty corpus"):
        NGramTrainer(order=3).train(iter([]))
    with pytest.raises(ValueError, match="order must be >= 1"):
        NGramTrainer(order=0)
    with pytest.raises(CorpusError, match="discount"):
        NGramTrainer(order=3).train(["a b c", "a b d"])
    assert NGramTrainer(order=3, discount_fallback=True).train(["a b c", "a b d"]).order == 3
    with pytest.raises(ValueError, match="must not decrease"):
        NGramTrainer(order=3, prune=[0, 2, 1]).train(train_sentences)
    with pytest.raises(ValueError, match="unigrams cannot be pruned"):
        NGramTrainer(order=3, prune=[1, 1, 1]).train(train_sentences)
    with pytest.raises(CorpusError, match="no word of the corpus"):
        NGramTrainer(order=2, vocabulary=["x", "y"]).train(["a b", "c"])
    with pytest.raises(ValueError, match="option .smoothing. must be one of .mkn., .kn.*witten-bell"):
        NGramTrainer(order=3, smoothing="witten-bell")


def test_text_with_no_word_in_vocabulary_scores_as_unk(train_sentences) -> None:
    model = NGramTrainer(order=3).train(train_sentences)
    ev = model.evaluate(["zzz yyy", "qqq"])
    assert ev.oovs == 3 and ev.words == 3
    assert not np.isnan(ev.perplexity_excluding_oov) and ev.tokens - ev.oovs == 2  # the two </s>
    assert ev.perplexity > model.evaluate(train_sentences[:5]).perplexity


@pytest.mark.parametrize("smoothing,prune", [("mkn", None), ("kn", None), ("mkn", [0, 1, 2]), ("kn", [0, 0, 1])])
def test_kneser_ney_kernel_matches_numpy_reference(train_sentences, smoothing, prune) -> None:
    from corpuskit.lm.ngram.estimate import estimate

    counts = count_ngrams(train_sentences + ["w1 w2 w3 w4"], 3)
    fast = estimate(counts, smoothing, prune)
    slow = estimate(counts, smoothing, prune, engine="numpy")
    assert fast.counts() == slow.counts() and np.array_equal(fast.parent, slow.parent)
    np.testing.assert_allclose(fast.prob, slow.prob, atol=1e-6)
    np.testing.assert_allclose(fast.backoff, slow.backoff, atol=1e-6)
    assert fast.meta["discounts"] == slow.meta["discounts"]


def test_undecodable_bytes_and_lone_surrogates_survive(tmp_path) -> None:
    texts = ["caf\udce9 ok", "x \ud800 y", "ok caf\udce9"] * 40  # a latin-1 byte read with surrogateescape; a JSON lone surrogate
    model = NGramTrainer(order=2, discount_fallback=True).train(texts)
    assert "caf\udce9" in model.vocab.index
    model.save(tmp_path / "m.arpa")
    again = NGramModel.load(tmp_path / "m.arpa")
    np.testing.assert_allclose(again.score_batch(texts[:3]), model.score_batch(texts[:3]), atol=1e-5)
    assert again.full_scores("caf\udce9")[0][2] is False  # not an OOV after the round trip
