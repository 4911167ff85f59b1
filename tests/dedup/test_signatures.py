"""MinHash signatures: numba kernels against the pure references and against datasketch."""

import numpy as np
import pytest
from datasketch import MinHash

from corpuskit.dedup.signatures import (
    MinHasher,
    jaccard,
    minhash_ref,
    permutations,
    shingle_hashes_fast_ref,
    shingle_hashes_sha1,
    shingle_set,
    sketch_jaccard,
)

ALPHABET = list("abcdeé漢 \t\n\u00a0\u2003xyz.,")


def random_texts(rng: np.random.Generator, count: int) -> list[str]:
    texts = []
    for _ in range(count):
        length = int(rng.integers(0, 120))
        texts.append("".join(rng.choice(ALPHABET, size=length)))
    return texts + ["", "   ", "one", "a b c d", "a b c d e", "\udcff lone surrogate word"]


def test_permutations_match_datasketch():
    for num_perm, seed in [(2, 1), (7, 3), (128, 1), (257, 42)]:
        a, b = permutations(num_perm, seed)
        ds_a, ds_b = MinHash(num_perm=num_perm, seed=seed).permutations
        assert np.array_equal(a, ds_a) and np.array_equal(b, ds_b)
        assert (a & 1).all()


@pytest.mark.parametrize("hashing", ["fast", "sha1"])
@pytest.mark.parametrize("num_perm,ngram", [(2, 1), (33, 3), (128, 5)])
def test_kernel_equals_reference_on_random_texts(hashing, num_perm, ngram):
    rng = np.random.default_rng(num_perm * 7 + ngram)
    hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=int(rng.integers(0, 1000)), hashing=hashing)
    texts = random_texts(rng, 61)
    sig, counts = hasher.signatures(texts)
    assert sig.shape == (len(texts), num_perm) and sig.dtype == np.uint32
    for text, row, count in zip(texts, sig, counts):
        assert np.array_equal(row, hasher.signature_ref(text)), repr(text)
        assert count == (len(text.split()) - ngram + 1 if len(text.split()) >= ngram else min(len(text.split()), 1))


def test_fast_shingle_hashes_are_per_shingle():
    # same shingle -> same hash wherever it occurs; word order matters
    h = shingle_hashes_fast_ref("a b c a b c", 3)
    assert h[0] == h[3] and len(set(h.tolist())) == 3
    assert shingle_hashes_fast_ref("a b", 2)[0] != shingle_hashes_fast_ref("b a", 2)[0]


def test_sha1_signatures_equal_datasketch_default_minhash():
    rng = np.random.default_rng(5)
    hasher = MinHasher(num_perm=64, ngram=3, seed=9, hashing="sha1")
    for text in random_texts(rng, 20):
        if "\udcff" in text:
            continue
        reference = MinHash(num_perm=64, seed=9)
        for shingle in shingle_set(text, 3):
            reference.update(shingle.encode("utf-8"))
        assert np.array_equal(hasher.signatures([text])[0][0], reference.hashvalues)


def test_fast_signatures_equal_datasketch_for_same_shingle_hashes():
    rng = np.random.default_rng(6)
    hasher = MinHasher(num_perm=100, ngram=2, seed=4)
    for text in random_texts(rng, 15):
        reference = MinHash(num_perm=100, seed=4, hashfunc=lambda h: h)
        reference.update_batch([int(h) for h in shingle_hashes_fast_ref(text, 2)])
        assert np.array_equal(hasher.signatures([text])[0][0], reference.hashvalues)


def test_minhash_ref_of_nothing_is_max():
    a, b = permutations(8, 1)
    assert (minhash_ref(np.zeros(0, dtype=np.uint32), a, b) == 0xFFFFFFFF).all()
    assert (shingle_hashes_sha1("", 5).size, shingle_hashes_fast_ref(" \n", 5).size) == (0, 0)


def test_signature_agreement_estimates_jaccard():
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in rng.integers(0, 10**6, size=600)]
    base = " ".join(words)
    edited = " ".join(words[:540] + [f"new{i}" for i in range(60)])
    true = jaccard(shingle_set(base), shingle_set(edited))
    sig, _ = MinHasher(num_perm=512).signatures([base, edited])
    estimate = float((sig[0] == sig[1]).mean())
    assert abs(estimate - true) < 0.07, (estimate, true)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="num_perm"):
        MinHasher(num_perm=1)
    with pytest.raises(ValueError, match="ngram"):
        MinHasher(ngram=0)
    with pytest.raises(ValueError, match="hashing"):
        MinHasher(hashing="md5")


@pytest.mark.parametrize("hashing", ["fast", "sha1"])
@pytest.mark.parametrize("k,ngram", [(1, 1), (7, 2), (64, 5)])
def test_bottom_k_kernel_equals_reference(hashing, k, ngram):
    rng = np.random.default_rng(k + ngram)
    hasher = MinHasher(ngram=ngram, hashing=hashing)
    texts = random_texts(rng, 40) + [" ".join(["same"] * 50)]
    values, lengths = hasher.sketches(texts, k)
    for text, row, length in zip(texts, values, lengths):
        expected = hasher.sketch_ref(text, k)
        assert length == len(expected) and np.array_equal(row[:length], expected), repr(text)
        assert (np.diff(row[:length].astype(np.int64)) > 0).all()


def test_sketch_jaccard_is_exact_for_small_sets_and_close_for_large():
    rng = np.random.default_rng(8)
    hasher = MinHasher(ngram=3)
    words = [f"w{i}" for i in rng.integers(0, 10**6, size=300)]
    a, b = " ".join(words), " ".join(words[:260] + [f"n{i}" for i in range(40)])
    true = jaccard(shingle_set(a, 3), shingle_set(b, 3))
    sketches, lengths = hasher.sketches([a, b], 1024)
    assert sketch_jaccard(sketches[0, : lengths[0]], sketches[1, : lengths[1]], 1024) == pytest.approx(true)
    small, small_lengths = hasher.sketches([a, b], 128)
    estimate = sketch_jaccard(small[0, : small_lengths[0]], small[1, : small_lengths[1]], 128)
    assert abs(estimate - true) < 0.12
    assert sketch_jaccard(np.array([1, 2, 3]), np.array([2, 3, 4]), 8) == 0.5
    assert sketch_jaccard(np.array([], dtype=np.uint32), np.array([], dtype=np.uint32), 8) == 1.0
