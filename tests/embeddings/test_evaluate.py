"""Analogy and word-pair evaluation, checked against gensim's on the same vectors."""

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKeyedVectors

from corpuskit.document import CorpusError
from corpuskit.embeddings.evaluate import default_dataset, evaluate_analogies, evaluate_word_pairs
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.word2vec import Word2VecTrainer


@pytest.fixture(scope="module")
def lee_vectors(tmp_path_factory):
    texts = default_dataset("lee_background.cor").read_text().splitlines()
    kv = Word2VecTrainer(dim=32, min_count=2, epochs=3, workers=2).train(texts)
    path = tmp_path_factory.mktemp("lee") / "lee.bin"
    kv.save(path)
    return kv, GensimKeyedVectors.load_word2vec_format(str(path), binary=True)


def test_analogies_match_gensim(lee_vectors):
    ours, theirs = lee_vectors
    result = evaluate_analogies(ours, default_dataset("questions-words.txt"), restrict_vocab=30_000)
    _, sections = theirs.evaluate_word_analogies(str(default_dataset("questions-words.txt")), restrict_vocab=30_000)
    total = [s for s in sections if s["section"] == "Total accuracy"][0]
    assert result.covered == len(total["correct"]) + len(total["incorrect"]) > 0
    assert result.correct == len(total["correct"])
    assert result.questions == 19544
    by_name = {s.name: s for s in result.sections}
    for section in sections[:-1]:
        assert by_name[section["section"]].correct == len(section["correct"])


def test_word_pairs_match_gensim(lee_vectors):
    ours, theirs = lee_vectors
    for name in ("wordsim353.tsv", "simlex999.txt"):
        result = evaluate_word_pairs(ours, default_dataset(name))
        pearson, spearman, oov = theirs.evaluate_word_pairs(str(default_dataset(name)))
        # cosines equal up to float32 rounding can swap ranks of near-ties: compare to 2e-3
        assert result.spearman == pytest.approx(spearman.statistic, abs=2e-3)
        assert result.pearson == pytest.approx(pearson.statistic, abs=1e-4)
        assert 100 * (1 - result.covered / result.pairs) == pytest.approx(oov, abs=1e-6)


def planted():
    words = ["Man", "woman", "king", "queen", "paris", "france", "rome", "italy", "man"]
    rng = np.random.default_rng(0)
    basis = np.eye(10)
    v = {
        "Man": basis[0], "woman": basis[0] + basis[1], "king": basis[0] + basis[2], "queen": basis[0] + basis[1] + basis[2],
        "paris": basis[3] + basis[4], "france": basis[3], "rome": basis[5] + basis[4], "italy": basis[5], "man": basis[9],
    }
    vectors = np.stack([v[w] + rng.normal(scale=0.01, size=10) for w in words]).astype(np.float32)
    return KeyedVectors(words, vectors)


def test_analogies_on_planted_vectors_case_insensitive(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": royal\nman woman king queen\nMAN KING woman queen\nman woman king zebra\n: capitals\nfrance paris italy rome\n")
    for method in ("add", "mul"):
        result = evaluate_analogies(planted(), path, method=method)
        assert result.questions == 4 and result.covered == 3 and result.correct == 3
        assert [(s.name, s.correct, s.total) for s in result.sections] == [("royal", 2, 2), ("capitals", 1, 1)]
    restricted = evaluate_analogies(planted(), path, restrict_vocab=4)
    assert restricted.covered == 2  # paris..italy are outside the 4 most frequent words
    # 'man' (lower case, id 8) never shadows 'Man' (id 0): the frequent spelling wins
    assert evaluate_analogies(planted(), path, case_insensitive=False).covered == 2  # 'MAN' is now unknown


def test_malformed_evaluation_files_name_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(": s\na b c\n")
    with pytest.raises(CorpusError, match=r"bad\.txt:2: expected 4 words"):
        evaluate_analogies(planted(), bad)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# comment\nman\twoman\t3.5\nking\tqueen\thigh\n")
    with pytest.raises(CorpusError, match=r"pairs\.tsv:3: score 'high'"):
        evaluate_word_pairs(planted(), pairs)


def test_word_pairs_on_planted_vectors(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t9\nMAN\tking\t7\nparis\trome\t5\nking\tparis\t1\nwoman\tzebra\t4\n")
    result = evaluate_word_pairs(planted(), pairs)
    assert result.covered == 4 and result.pairs == 5
    assert result.spearman == pytest.approx(1.0)
