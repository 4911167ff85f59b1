"""Queries on keyed vectors against brute force, on random and planted vectors."""

import numpy as np
import pytest

from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.subwords import ngram_buckets


def random_kv(size=57, dim=11, seed=0):
    rng = np.random.default_rng(seed)
    return KeyedVectors([f"w{i}" for i in range(size)], rng.normal(size=(size, dim)).astype(np.float32))


def brute_force(kv, query, exclude, topn):
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    sims = unit @ (query / np.linalg.norm(query))
    ranked = [i for i in np.argsort(-sims) if i not in exclude]
    return [(kv.index_to_key[i], float(sims[i])) for i in ranked[:topn]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_most_similar_matches_brute_force(seed):
    kv = random_kv(seed=seed)
    got = kv.most_similar("w3", topn=7)
    want = brute_force(kv, kv.vectors[3], {3}, 7)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5)
    unit = kv.unit_vectors
    query = unit[5] + unit[9] - unit[2]
    got = kv.most_similar(positive=["w5", "w9"], negative=["w2"], topn=4)
    assert [w for w, _ in got] == [w for w, _ in brute_force(kv, query, {5, 9, 2}, 4)]


def test_most_similar_with_vectors_restrict_and_batches():
    kv = random_kv(size=300)
    vector = kv.vectors[10] * 3
    assert kv.most_similar(vector, topn=1)[0][0] == "w10"  # a raw vector is not excluded
    restricted = kv.most_similar("w10", topn=5, restrict_vocab=20)
    assert all(int(w[1:]) < 20 for w, _ in restricted)
    queries = kv.vectors[:50]
    batched = kv.nearest(queries, topn=3, batch_size=7)
    single = [kv.nearest(q[None], topn=3)[0] for q in queries]
    assert [[w for w, _ in r] for r in batched] == [[w for w, _ in r] for r in single]
    assert kv.most_similar("w1", topn=1000)[-1][0] != "w1" and len(kv.most_similar("w1", topn=1000)) == 299


def planted_kv():
    """Gender and royalty as orthogonal planted directions, plus distractors."""
    rng = np.random.default_rng(0)
    gender, royal, base = np.eye(8)[0], np.eye(8)[1], np.eye(8)[2]
    words = {
        "man": base - gender, "woman": base + gender, "king": base - gender + royal, "queen": base + gender + royal,
        "apple": np.eye(8)[3], "pear": np.eye(8)[3] + 0.2 * np.eye(8)[4], "car": np.eye(8)[5],
    }
    names = list(words)
    vectors = np.stack([words[w] + rng.normal(scale=0.01, size=8) for w in names]).astype(np.float32)
    return KeyedVectors(names, vectors)


def test_analogy_add_and_mul_and_doesnt_match():
    kv = planted_kv()
    assert kv.analogy("man", "king", "woman")[0][0] == "queen"
    assert kv.analogy("man", "king", "woman", method="mul")[0][0] == "queen"
    assert kv.analogy("king", "man", "queen", method="mul")[0][0] == "woman"
    assert kv.doesnt_match(["apple", "pear", "car"]) == "car"
    assert kv.similarity("apple", "pear") > 0.9 > kv.similarity("apple", "car")
    with pytest.raises(ValueError, match="'add' or 'mul'"):
        kv.analogy("man", "king", "woman", method="cos")


def test_unknown_word_errors_name_the_word():
    kv = planted_kv()
    with pytest.raises(KeyError, match="'zebra'"):
        kv.most_similar("zebra")
    with pytest.raises(KeyError, match="'zebra'"):
        kv.similarity("man", "zebra")
    assert "zebra" not in kv and "man" in kv


def test_vectors_are_read_only():
    kv = random_kv()
    with pytest.raises(ValueError):
        kv.vectors[0, 0] = 1.0
    with pytest.raises(ValueError):
        kv.unit_vectors[0, 0] = 1.0


def test_out_of_vocabulary_words_use_ngrams():
    rng = np.random.default_rng(0)
    buckets = rng.normal(size=(50, 4)).astype(np.float32)
    kv = KeyedVectors(["cat"], np.ones((1, 4), np.float32), ngram_vectors=buckets, minn=2, maxn=3)
    expected = buckets[ngram_buckets("cats", 2, 3, 50)].mean(axis=0)
    np.testing.assert_allclose(kv["cats"], expected, rtol=1e-6)
    assert "cats" in kv
    np.testing.assert_allclose(kv["cat"], 1.0)
