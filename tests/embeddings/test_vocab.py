"""Vocabulary, sub-sampling, negative table, Huffman tree, tokenizer and the spilled id stream."""

import heapq

import numpy as np
import pytest

from corpuskit.document import CorpusError
from corpuskit.embeddings.stream import spill_corpus
from corpuskit.embeddings.tokenize import tokenize
from corpuskit.embeddings.vocab import (
    NEGATIVE_DOMAIN,
    build_vocabulary,
    huffman_tree,
    keep_probabilities,
    negative_table,
)


def test_tokenize():
    assert tokenize("The cat's hat-stand, 2 x! Über_all") == ["the", "cat's", "hat-stand", "2", "x", "über", "all"]
    assert tokenize("ABC def", lowercase=False) == ["ABC", "def"]
    assert tokenize("  ,;  ") == []


def test_build_vocabulary_sorts_filters_and_caps():
    words = ["a", "b", "c", "d", "e"]
    counts = np.array([3, 10, 1, 10, 5])
    vocab, remap = build_vocabulary(words, counts, min_count=3)
    assert vocab.words == ["b", "d", "e", "a"]  # ties keep first appearance
    assert vocab.counts.tolist() == [10, 10, 5, 3]
    assert remap.tolist() == [3, 0, -2, 1, 2]
    capped, remap = build_vocabulary(words, counts, min_count=1, max_vocab_size=2)
    assert capped.words == ["b", "d"] and remap.tolist() == [-2, 0, -2, 1, -2]


def test_build_vocabulary_errors():
    with pytest.raises(CorpusError, match="empty corpus"):
        build_vocabulary([], np.zeros(0), min_count=1)
    with pytest.raises(CorpusError, match="min_count=50.*seen 10 times"):
        build_vocabulary(["a", "b"], np.array([10, 2]), min_count=50)


def test_keep_probabilities_match_word2vec_formula():
    counts = np.array([1000, 100, 10, 1])
    sample = 1e-2
    threshold = sample * counts.sum()
    expected = [min(1.0, (np.sqrt(c / threshold) + 1) * threshold / c) for c in counts]
    np.testing.assert_allclose(keep_probabilities(counts, sample), expected)
    assert keep_probabilities(counts, 0).tolist() == [1, 1, 1, 1]
    assert keep_probabilities(counts, sample)[0] < 0.5


def test_negative_table_follows_unigram_power():
    counts = np.array([81, 16, 1])
    table = negative_table(counts, power=0.75)
    assert table[-1] == NEGATIVE_DOMAIN and (np.diff(table) > 0).all()
    draws = np.random.default_rng(0).integers(0, NEGATIVE_DOMAIN, 200_000)
    freq = np.bincount(np.searchsorted(table, draws, side="right"), minlength=3) / draws.size
    weights = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(freq, weights, atol=0.01)


def huffman_lengths_reference(counts):
    """Optimal code lengths by the textbook merge (each merge deepens every member by one)."""
    heap = [(int(c), i, [i]) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    depth = [0] * len(counts)
    tie = len(counts)
    while len(heap) > 1:
        ca, _, a = heapq.heappop(heap)
        cb, _, b = heapq.heappop(heap)
        for member in a + b:
            depth[member] += 1
        heapq.heappush(heap, (ca + cb, tie, a + b))
        tie += 1
    return depth


@pytest.mark.parametrize("size", [1, 2, 3, 17, 100])
def test_huffman_tree_is_prefix_free_and_optimal(size):
    counts = np.sort(np.random.default_rng(size).integers(1, 1000, size))[::-1]
    tree = huffman_tree(counts)
    codes = ["".join(map(str, tree.code(w)[1])) for w in range(size)]
    if size == 1:
        assert codes == [""]
        return
    assert len(set(codes)) == size
    assert not any(a != b and b.startswith(a) for a in codes for b in codes)
    lengths = np.array([len(c) for c in codes])
    assert (lengths * counts).sum() == (np.array(huffman_lengths_reference(counts)) * counts).sum()
    assert all((tree.code(w)[0][0] == size - 2) for w in range(size))  # paths start at the root
    assert tree.points.max() <= size - 2 and tree.points.min() >= 0


def test_spill_corpus_writes_final_ids(tmp_path):
    texts = ["a b a c", "", "b a d", "?!", "a"]
    vocab, stream = spill_corpus(iter(texts), tmp_path, min_count=2)
    assert vocab.words == ["a", "b"] and vocab.counts.tolist() == [4, 2]
    assert stream.ids().tolist() == [0, 1, 0, -1, 1, 0, -1, 0, -1]
    assert stream.tokens == 6
    chunks = stream.chunks(target=2)
    assert chunks[0][0] == 0 and chunks[-1][1] == 9
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))


def test_spill_corpus_errors(tmp_path):
    with pytest.raises(CorpusError, match="empty corpus"):
        spill_corpus(iter([]), tmp_path)
    with pytest.raises(CorpusError, match="min_count=5"):
        spill_corpus(iter(["one two three"]), tmp_path, min_count=5)
