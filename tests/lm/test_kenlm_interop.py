"""Our ARPA files in the `kenlm` module, KenLM's scoring conventions, and lmplz's estimates."""

from __future__ import annotations

import kenlm
import numpy as np
import pytest

from corpuskit.lm.ngram import NGramModel, NGramTrainer
from corpuskit.lm.ngram.reference import mkn_ref


@pytest.fixture(scope="module", params=[2, 3, 5])
def trained(request, train_sentences) -> NGramModel:
    # order 5 on 600 short sentences has no 4-gram seen 4 times: lmplz's fallback discounts
    return NGramTrainer(order=request.param, discount_fallback=request.param > 3).train(train_sentences)


@pytest.mark.parametrize("suffix", [".arpa", ".arpa.gz"])
def test_kenlm_scores_our_arpa_like_we_do(trained: NGramModel, test_sentences, tmp_path, suffix) -> None:
    path = tmp_path / f"m{suffix}"
    trained.save(path)
    ref = kenlm.Model(str(path))
    assert ref.order == trained.order
    for bos in (True, False):
        for eos in (True, False):
            ours = trained.score_batch(test_sentences, bos=bos, eos=eos)
            theirs = np.asarray([ref.score(s, bos=bos, eos=eos) for s in test_sentences])
            np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=0)
    for sentence in test_sentences[:20]:
        ours_full = trained.full_scores(sentence)
        theirs_full = list(ref.full_scores(sentence))
        assert [(o, u) for _, o, u in ours_full] == [(o, u) for _, o, u in theirs_full]
        np.testing.assert_allclose([p for p, _, _ in ours_full], [p for p, _, _ in theirs_full], atol=1e-4)


def test_perplexity_matches_kenlm_including_oovs(trained: NGramModel, test_sentences, tmp_path) -> None:
    trained.save(tmp_path / "m.arpa")
    ref = kenlm.Model(str(tmp_path / "m.arpa"))
    evaluation = trained.evaluate(test_sentences)
    total = sum(ref.score(s) for s in test_sentences)
    tokens = sum(len(s.split()) + 1 for s in test_sentences)
    assert evaluation.tokens == tokens
    assert evaluation.oovs == sum(1 for s in test_sentences for w in s.split() if w not in ref)
    assert evaluation.oovs > 0
    assert evaluation.perplexity == pytest.approx(10 ** (-total / tokens), rel=1e-5)
    assert evaluation.perplexity_excluding_oov < evaluation.perplexity
    assert evaluation.cross_entropy_bits == pytest.approx(np.log2(evaluation.perplexity))
    assert trained.perplexity(test_sentences[0]) == pytest.approx(ref.perplexity(test_sentences[0]), rel=1e-4)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_mkn_matches_the_plain_lmplz_reference(order: int, train_sentences) -> None:
    model = NGramTrainer(order=order).train(train_sentences)
    ids = [[model.vocab.index[w] for w in s.split()] for s in train_sentences]
    expected = mkn_ref(ids, order, len(model.words))
    got = {g: (p, b) for k in range(1, order + 1) for g, p, b in model.ngrams(k)}
    assert got.keys() == expected.keys()
    for gram, (p, b) in expected.items():
        assert got[gram][0] == pytest.approx(p, abs=1e-5), gram
        assert got[gram][1] == pytest.approx(b, abs=1e-5), gram


def test_min_count_vocabulary_scores_agree_with_kenlm(train_sentences, test_sentences, tmp_path) -> None:
    model = NGramTrainer(order=3, min_count=3).train(train_sentences)
    assert len(model.words) < len(NGramTrainer(order=3).train(train_sentences).words)
    model.save(tmp_path / "m.arpa")
    ref = kenlm.Model(str(tmp_path / "m.arpa"))
    np.testing.assert_allclose(model.score_batch(test_sentences), [ref.score(s) for s in test_sentences], atol=1e-4)


def test_gensim_lee_corpus_round_trip(tmp_path) -> None:
    import gensim.test.utils as gtu

    lines = open(gtu.datapath("lee_background.cor"), encoding="utf-8").read().lower().splitlines()
    model = NGramTrainer(order=3).train(lines[:250])
    model.save(tmp_path / "lee.arpa.gz")
    ref = kenlm.Model(str(tmp_path / "lee.arpa.gz"))
    held = lines[250:]
    for line in held:  # whole documents: compare per token (kenlm sums sentences in float32)
        ours = [p for p, _, _ in model.full_scores(line)]
        np.testing.assert_allclose(ours, [p for p, _, _ in ref.full_scores(line)], atol=1e-4)
    np.testing.assert_allclose(model.score_batch(held), [ref.score(s) for s in held], rtol=1e-6)
    again = NGramModel.load(tmp_path / "lee.arpa.gz")
    np.testing.assert_allclose(again.score_batch(held), model.score_batch(held), atol=1e-5)


def test_stateful_queries_match_kenlms(trained: NGramModel, test_sentences, tmp_path) -> None:
    from corpuskit.lm.ngram import State

    trained.save(tmp_path / "m.arpa")
    ref = kenlm.Model(str(tmp_path / "m.arpa"))
    for word in ("w0", "w299", "w309", "<s>", "</s>", "<unk>", "nope"):
        assert (word in trained) == (word in ref), word
    ours_states, their_states = [], []
    for sentence in test_sentences[:40]:
        for begin in (True, False):
            ours, theirs = State(), kenlm.State()
            (trained.BeginSentenceWrite if begin else trained.NullContextWrite)(ours)
            (ref.BeginSentenceWrite if begin else ref.NullContextWrite)(theirs)
            total = 0.0
            for word in sentence.split() + ["</s>"]:
                ours_out, theirs_out = State(), kenlm.State()
                got = trained.BaseFullScore(ours, word, ours_out)
                want = ref.BaseFullScore(theirs, word, theirs_out)
                assert got.log_prob == pytest.approx(want.log_prob, abs=1e-4)
                assert (got.ngram_length, got.oov) == (want.ngram_length, want.oov)
                assert trained.BaseScore(ours, word, State()) == got.log_prob
                total += got.log_prob
                ours, theirs = ours_out, theirs_out
                ours_states.append(ours)
                their_states.append(theirs)
            assert total == pytest.approx(trained.score(sentence, bos=begin), abs=1e-9)
    for words in (["<s>", "w1"], ["w1", "<s>", "w2"], ["<unk>", "w1"], ["</s>", "w1", "</s>", "</s>"], ["nope", "nope", "w2"]):
        ours, theirs = State(), kenlm.State()
        trained.NullContextWrite(ours)
        ref.NullContextWrite(theirs)
        for word in words:  # special words used as words score as in kenlm too
            ours_out, theirs_out = State(), kenlm.State()
            got, want = trained.BaseFullScore(ours, word, ours_out), ref.BaseFullScore(theirs, word, theirs_out)
            assert (got.ngram_length, got.oov) == (want.ngram_length, want.oov) and got.log_prob == pytest.approx(want.log_prob, abs=1e-4)
            ours, theirs = ours_out, theirs_out
    # the same positions share a state in both: KenLM's minimal context, kept alike
    ours_ids = {s: i for i, s in enumerate(dict.fromkeys(ours_states))}
    their_ids = {s: i for i, s in enumerate(dict.fromkeys(their_states))}
    ours_partition = [ours_ids[s] for s in ours_states]
    their_partition = [their_ids[s] for s in their_states]
    assert len(ours_ids) == len(their_ids) > 10
    assert [ours_partition.index(i) for i in ours_partition] == [their_partition.index(i) for i in their_partition]
