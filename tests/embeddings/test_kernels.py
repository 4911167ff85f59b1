"""Numba kernels against their plain-Python references on small random problems."""

from collections import Counter

import numpy as np
import pytest

from corpuskit.embeddings import reference
from corpuskit.embeddings.glove_kernels import glove_epoch, window_keys
from corpuskit.embeddings.kernels import draw_bits, lcg_next, train_chunk
from corpuskit.embeddings.subwords import subword_table
from corpuskit.embeddings.vocab import huffman_tree, keep_thresholds, negative_table


def random_stream(rng, vocab_size, length, sentence_end_rate=0.15):
    ids = rng.integers(0, vocab_size, size=length).astype(np.int32)
    ids[rng.random(length) < sentence_end_rate] = -1
    return ids


def test_lcg_matches_reference():
    state_k, state_r = np.uint64(7), 7
    for _ in range(50):
        state_k, state_r = np.uint64(lcg_next(np.uint64(state_k))), reference.lcg_next(state_r)
        assert int(state_k) == state_r
        assert int(draw_bits(state_k)) == reference.draw_bits(state_r)


@pytest.mark.parametrize("sg, predict_center", [(True, False), (True, True), (False, False)])
@pytest.mark.parametrize("hs", [False, True])
@pytest.mark.parametrize("subwords", [False, True])
@pytest.mark.parametrize("seed", [3, 11])
def test_train_chunk_matches_reference(sg, predict_center, hs, subwords, seed):
    rng = np.random.default_rng(seed)
    vocab_size, dim, bucket = int(rng.integers(5, 13)), int(rng.integers(3, 10)), 7
    counts = np.sort(rng.integers(1, 60, size=vocab_size))[::-1].astype(np.int64)
    words = ["".join(rng.choice(list("abcde"), size=rng.integers(1, 5))) + str(i) for i in range(vocab_size)]
    if subwords:
        offsets, rows = subword_table(words, 2, 3, bucket)
        input_rows = vocab_size + bucket
    else:
        offsets, rows = np.arange(vocab_size + 1, dtype=np.int64), np.arange(vocab_size, dtype=np.int32)
        input_rows = vocab_size
    tree = huffman_tree(counts)
    keep = keep_thresholds(counts, 0.05)
    cum = negative_table(counts)
    ids = random_stream(rng, vocab_size, int(rng.integers(20, 41)))
    win = (rng.random((input_rows, dim), dtype=np.float32) - 0.5).astype(np.float32)
    wout = ((rng.random((vocab_size - 1 if hs else vocab_size, dim), dtype=np.float32) - 0.5) * 0.3).astype(np.float32)
    win_ref, wout_ref = win.astype(np.float64), wout.astype(np.float64)
    got = train_chunk(ids, win, wout, offsets, rows, keep, cum, tree.offsets, tree.points, tree.codes, sg, predict_center, hs, 3, 3, 0.1, seed)
    subword_lists = [list(rows[offsets[w] : offsets[w + 1]]) for w in range(vocab_size)]
    want = reference.train_chunk_reference(ids, win_ref, wout_ref, subword_lists, keep, cum, tree, sg, predict_center, hs, 3, 3, 0.1, seed)
    assert got[1] == want[1] and got[2] == want[2]
    assert got[1] > 0
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4)
    np.testing.assert_allclose(win, win_ref, atol=2e-5)
    np.testing.assert_allclose(wout, wout_ref, atol=2e-5)


def test_train_chunk_edge_cases():
    """Only separators, a single-word sentence and full sub-sampling train nothing."""
    counts = np.array([5, 3, 2], dtype=np.int64)
    tree = huffman_tree(counts)
    offsets, rows = np.arange(4, dtype=np.int64), np.arange(3, dtype=np.int32)
    win = np.ones((3, 4), dtype=np.float32)
    wout = np.zeros((3, 4), dtype=np.float32)
    keep_all = np.full(3, 2**32, dtype=np.int64)
    for ids in (np.array([-1, -1], np.int32), np.array([1, -1, 2], np.int32), np.zeros(0, np.int32)):
        loss, predictions, words = train_chunk(
            ids, win, wout, offsets, rows, keep_all, negative_table(counts), tree.offsets, tree.points, tree.codes, True, True, False, 2, 2, 0.1, 1
        )
        assert predictions == 0 and loss == 0.0 and words == int((ids >= 0).sum())
    keep_none = np.zeros(3, dtype=np.int64)
    loss, predictions, words = train_chunk(
        np.array([0, 1, 2, 0], np.int32), win, wout, offsets, rows, keep_none, negative_table(counts), tree.offsets, tree.points,
        tree.codes, False, False, False, 2, 2, 0.1, 1,
    )
    assert predictions == 0 and words == 4
    assert (win == 1).all() and (wout == 0).all()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_window_keys_match_reference(seed):
    rng = np.random.default_rng(seed)
    vocab_size, window = int(rng.integers(3, 9)), int(rng.integers(1, 5))
    ids = random_stream(rng, vocab_size, int(rng.integers(1, 60)))
    first = int(rng.integers(0, ids.size))  # the centres start here, the ids before are context only

    def counted(part, start):
        out = np.full(window * part.size + 1, -7, dtype=np.int64)
        n = window_keys(part, start, window, vocab_size, out)
        assert (out[n:] == -7).all()
        pair, distance = np.divmod(out[:n], window)
        low, high = np.divmod(pair, vocab_size)
        return Counter(zip(low.tolist(), high.tolist(), (distance + 1).tolist()))

    assert counted(ids[first:], 0) == reference.window_rows_reference(ids[first:], window)
    whole = reference.window_rows_reference(ids, window)
    before = reference.window_rows_reference(ids[:first], window)  # centres before `first` only
    assert counted(ids, first) == whole - before
    assert counted(ids, 0) == whole


@pytest.mark.parametrize("seed", [0, 5])
def test_glove_epoch_matches_reference(seed):
    rng = np.random.default_rng(seed)
    vocab_size, dim, entries = 7, int(rng.integers(2, 9)), 23
    rows = rng.integers(0, vocab_size, entries).astype(np.int32)
    cols = rng.integers(0, vocab_size, entries).astype(np.int32)
    counts = rng.uniform(0.2, 150.0, entries)
    order = rng.permutation(entries).astype(np.int32)
    w = (rng.random((vocab_size, dim), dtype=np.float32) - 0.5).astype(np.float32)
    wt = (rng.random((vocab_size, dim), dtype=np.float32) - 0.5).astype(np.float32)
    b, bt = rng.random(vocab_size) - 0.5, rng.random(vocab_size) - 0.5
    state = [w, wt, b, bt, np.ones_like(w), np.ones_like(wt), np.ones_like(b), np.ones_like(bt)]
    ref_state = [x.astype(np.float64) for x in state]
    cost = glove_epoch(*state, rows, cols, counts, order, 100.0, 0.75, 0.05)
    ref_cost = reference.glove_epoch_reference(*ref_state, rows, cols, counts, order, 100.0, 0.75, 0.05)
    assert cost == pytest.approx(ref_cost, rel=1e-4)
    for got, want in zip(state, ref_state):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("size", [1, 2, 7, 100])
def test_bisect_right_matches_searchsorted(size):
    from corpuskit.embeddings.kernels import bisect_right

    rng = np.random.default_rng(size)
    table = np.cumsum(rng.integers(0, 5, size)).astype(np.int64)  # repeats included
    for value in list(rng.integers(-2, int(table[-1]) + 3, 50)) + [int(table[0]), int(table[-1])]:
        assert bisect_right(table, np.int64(value)) == np.searchsorted(table, value, side="right")
