"""Each numba kernel against its plain-Python reference on fresh random inputs, odd sizes and edges."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from corpuskit.lm.ngram import kernels
from corpuskit.lm.ngram.counting import NGramCounts, aggregate, count_ngrams
from corpuskit.lm.ngram.reference import count_rows_ref, ngram_counts_ref, score_ref
from corpuskit.spill import SpillCounter


def random_sentences(rng: np.random.Generator, n: int, vocab: int) -> list[list[int]]:
    return [list(rng.integers(3, vocab, size=int(rng.integers(0, 9)))) for _ in range(n)]


def rows_to_counter(rows: np.ndarray, counts: np.ndarray) -> Counter:
    return Counter({tuple(int(x) for x in row if x >= 0): int(c) for row, c in zip(rows, counts)})


def kernel_count(sentences: list[list[int]], order: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray([w for s in sentences for w in s], dtype=np.int32)
    lengths = np.asarray([len(s) for s in sentences], dtype=np.int64)
    counter = SpillCounter(order, 1 << 20)
    counter.add(kernels.count_rows, len(ids) + len(sentences), ids, lengths, order)
    return counter.result(ordered=False)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_count_rows_matches_reference(order: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 100 * order)
    sentences = random_sentences(rng, 37 + seed, vocab=9)
    rows, counts = kernel_count(sentences, order)
    assert rows_to_counter(rows, counts) == count_rows_ref(sentences, order)


def test_count_rows_edge_cases() -> None:
    rows, counts = kernel_count([[], [], [5]], 3)
    assert rows_to_counter(rows, counts) == Counter({(1, 2): 2, (1, 5): 1, (1, 5, 2): 1})


@pytest.mark.parametrize("order", [2, 3, 4])
def test_build_trie_raw_counts_and_suffix_links(order: int) -> None:
    rng = np.random.default_rng(order)
    sentences = random_sentences(rng, 51, vocab=8)
    rows, counts = aggregate(*kernel_count(sentences, order))
    vocab = 8
    bound = vocab + rows.shape[0] * order
    capacity = 1 << (4 * bound).bit_length()
    table = np.zeros((capacity, 2), dtype=np.int64)
    parent = np.full(bound, -1, dtype=np.int64)
    word = np.empty(bound, dtype=np.int32)
    word[:vocab] = np.arange(vocab)
    suffix = np.full(bound, -1, dtype=np.int64)
    raw = np.zeros(bound, dtype=np.int64)
    n = kernels.build_trie(rows, counts, vocab, table, parent, word, suffix, raw, vocab)

    def gram(node: int) -> tuple[int, ...]:
        out = []
        while node >= 0:
            out.append(int(word[node]))
            node = int(parent[node])
        return tuple(reversed(out))

    got = {gram(i): int(raw[i]) for i in range(n) if raw[i] or i >= vocab}
    expected = {g: c for g, c in ngram_counts_ref(count_rows_ref(sentences, order)).items() if c or len(g) > 1}
    assert got == expected
    for i in range(vocab, n):
        assert gram(int(suffix[i])) == gram(i)[1:]


def test_spilling_to_disk_gives_the_same_counts(tmp_path, monkeypatch) -> None:
    rng = np.random.default_rng(3)
    texts = [" ".join(f"t{w}" for w in rng.integers(0, 30, size=int(rng.integers(0, 15)))) for _ in range(700)]
    in_memory = count_ngrams(iter(texts), 3)
    spills = []
    original = SpillCounter.spill
    monkeypatch.setattr(SpillCounter, "spill", lambda self: (spills.append(self.n_rows), original(self)))
    spilled = count_ngrams(iter(texts), 3, memory_mb=0.05, spill_dir=tmp_path, chunk_lines=50)
    assert len(spills) > 2 and not any(tmp_path.iterdir())  # spilled runs, then cleaned up
    assert spilled.words == in_memory.words
    assert rows_to_counter(spilled.rows, spilled.counts) == rows_to_counter(in_memory.rows, in_memory.counts)
    assert spilled == in_memory  # the same canonical counts, to the array


def test_counts_merge_and_save_round_trip(tmp_path) -> None:
    texts = ["a b c", "b c d", "a b"]
    whole = count_ngrams(texts, 3)
    merged = count_ngrams(texts[:2], 3).merge(count_ngrams(texts[2:], 3))
    as_words = lambda c: Counter({tuple(c.words[x] for x in r if x >= 0): int(n) for r, n in zip(c.rows, c.counts)})  # noqa: E731
    assert as_words(merged) == as_words(whole)
    whole.save(tmp_path / "c.npz")
    again = NGramCounts.load(tmp_path / "c.npz")
    assert again.words == whole.words and np.array_equal(again.rows, whole.rows) and again.tokens == 8


def random_model(rng: np.random.Generator, order: int, vocab: int):
    """A model over a random closed set of n-grams (each one's prefix and suffix present), with
    random probabilities and backoffs (some non-zero on n-grams without children), and that set."""
    from corpuskit.lm.ngram.model import NGramModel

    ngrams: dict[tuple, tuple[float, float]] = {(w,): (float(-rng.uniform(0.1, 3)), float(-rng.uniform(0, 1))) for w in range(vocab)}
    for k in range(2, order + 1):
        for _ in range(25):
            base = [g for g in ngrams if len(g) == k - 1]
            g = base[rng.integers(len(base))] + (int(rng.integers(0, vocab)),)
            if g[1:] in ngrams:
                ngrams[g] = (float(-rng.uniform(0.1, 3)), float(-rng.uniform(0, 1)) if k < order and rng.random() < 0.8 else 0.0)
    words = ["<unk>", "<s>", "</s>"] + [f"x{i}" for i in range(3, vocab)]
    grams = sorted(ngrams, key=len)
    node_of = {g: i for i, g in enumerate(grams)}
    parent = np.asarray([-1 if len(g) == 1 else node_of[g[:-1]] for g in grams])
    model = NGramModel.from_nodes(words, order, parent, np.asarray([g[-1] for g in grams]), np.asarray([len(g) for g in grams]),
                                  np.asarray([ngrams[g][0] for g in grams]), np.asarray([ngrams[g][1] for g in grams]), np.arange(len(grams)))
    return model, ngrams


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("bos,eos", [(True, True), (False, True), (True, False), (False, False)])
def test_score_tokens_matches_textbook_backoff(order: int, bos: bool, eos: bool) -> None:
    rng = np.random.default_rng(order * 10 + bos * 2 + eos)
    vocab = 7
    model, ngrams = random_model(rng, order, vocab)
    sentences = [list(rng.integers(0, vocab, size=int(rng.integers(0, 11)))) for _ in range(23)]
    ids = np.asarray([w for s in sentences for w in s], dtype=np.int32)
    lengths = np.asarray([len(s) for s in sentences], dtype=np.int64)
    got, _ = model.score_ids(ids, lengths, bos, eos)
    expected = [x for s in sentences for x in score_ref(s, ngrams, order, bos, eos)]
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_advance_contexts_matches_textbook_backoff_and_kenlm_state(order: int) -> None:
    """Decoding rows move through `advance_contexts` from contexts it made itself; each word's
    score is textbook backoff over the whole history, and each row keeps the longest suffixes of
    its history that are n-grams with children or a backoff (KenLM's state)."""
    from corpuskit.lm.ngram import state as ngram_state

    rng = np.random.default_rng(100 + order)
    model, ngrams = random_model(rng, order, 6)
    extends = {g for g, (_, b) in ngrams.items() if b != 0} | {g[:-1] for g in ngrams if len(g) > 1}
    gram_of = {}
    for k in range(1, order + 1):
        for i, (gram, _, _) in enumerate(model.ngrams(k)):
            gram_of[int(model.offsets[k - 1]) + i] = gram
    histories = [[1] if rng.random() < 0.5 else [] for _ in range(17)]
    state = ngram_state.begin(model, len(histories), bos=False)
    _, _, state = ngram_state.advance(model, state, [w for h in histories for w in h], np.cumsum([0] + [len(h) for h in histories]))
    for _ in range(3):  # three rounds of 0..4 words per row, odd sizes included
        words = [list(rng.integers(0, 6, size=int(rng.integers(0, 5)))) for _ in histories]
        scores, matched, state = ngram_state.advance(model, state, [w for ws in words for w in ws], np.cumsum([0] + [len(w) for w in words]))
        at = 0
        for r, ws in enumerate(words):
            expected = score_ref(histories[r] + ws, ngrams, order, bos=False, eos=False)[len(histories[r]):]
            np.testing.assert_allclose(scores[at : at + len(ws)], expected, atol=1e-5)
            assert (matched[at : at + len(ws)] >= 1).all() and (matched[at : at + len(ws)] <= order).all()
            at += len(ws)
            histories[r] += ws
            kept = []
            for m in range(1, min(order - 1, len(histories[r])) + 1):
                gram = tuple(histories[r][-m:])
                if gram not in ngrams or gram not in extends:
                    break
                kept.append(gram)
            assert [gram_of[int(n)] for n in state.nodes[r, : state.lengths[r]]] == kept, histories[r]
            assert (state.nodes[r, state.lengths[r] :] == -1).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_renumber_nodes_matches_lexsort_reference(seed: int) -> None:
    from corpuskit.lm.ngram.reference import renumber_ref

    rng = np.random.default_rng(seed)
    vocab = 11
    parent, word, order = [-1] * vocab, list(range(vocab)), [1] * vocab
    seen = set()
    for _ in range(200 + 37 * seed):  # random trie: children of random existing nodes
        p = int(rng.integers(len(parent)))
        w = int(rng.integers(vocab))
        if order[p] < 4 and (p, w) not in seen:
            seen.add((p, w))
            parent.append(p)
            word.append(w)
            order.append(order[p] + 1)
    perm = np.concatenate([np.arange(vocab), vocab + rng.permutation(len(parent) - vocab)])  # rows in random order
    inverse = np.argsort(perm)
    parent_row = np.asarray([-1 if parent[i] < 0 else inverse[parent[i]] for i in perm])
    word_row = np.asarray(word, dtype=np.int32)[perm]
    order_row = np.asarray(order, dtype=np.int64)[perm]
    new_id, offsets = kernels.renumber_nodes(parent_row, word_row, order_row, 4, vocab)
    expected_id, expected_offsets = renumber_ref(parent_row, word_row, order_row, 4, vocab)
    assert np.array_equal(new_id, expected_id) and list(offsets) == expected_offsets


@pytest.mark.parametrize("smoothing", ["mkn", "addk"])
def test_arpa_formatter_matches_python_reference(train_sentences, smoothing) -> None:
    from corpuskit.lm.ngram import NGramTrainer
    from corpuskit.lm.ngram.arpa import arpa_lines_ref

    model = NGramTrainer(order=3, smoothing=smoothing).train(train_sentences + ["é ü ñ", "ok   two"])
    encoded = [w.encode() for w in model.words]
    word_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    word_start = np.concatenate([[0], np.cumsum([len(b) for b in encoded])]).astype(np.int64)
    previous = None
    for k in (1, 2, 3):
        expected, previous = arpa_lines_ref(model, k, previous)
        start, stop = int(model.offsets[k - 1]), int(model.offsets[k])
        got = bytes(kernels.format_arpa_lines(start, stop, k, model.parent, model.word, model.prob, model.backoff, k < 3,
                                              word_bytes, word_start)).decode()
        got_lines, expected_lines = got.splitlines(), expected.splitlines()
        assert len(got_lines) == len(expected_lines) == stop - start
        for a, b in zip(got_lines, expected_lines):
            fa, fb = a.split("\t"), b.split("\t")
            assert fa[1] == fb[1] and len(fa) == len(fb)
            np.testing.assert_allclose([float(x) for x in fa[::2]], [float(x) for x in fb[::2]], atol=1.5e-6)
            assert "-0\t" not in a and not a.startswith("-0\t")


@pytest.mark.parametrize("value", [0.0, -0.0, -1e-9, -99.0, -1.5, -0.1234565, -12.000001, 3.25, -1234567.5])
def test_decimal_writer_edge_values(value: float) -> None:
    from corpuskit.lm.ngram.arpa import format_decimal

    buf = np.zeros(64, dtype=np.uint8)
    n = kernels._write_decimal(buf, 0, value)
    text = bytes(buf[:n]).decode()
    assert float(text) == pytest.approx(value, abs=1e-6)
    assert text == format_decimal(value) or abs(float(text) - float(format_decimal(value))) <= 1.0001e-6  # half-way cases may round either way


@pytest.mark.parametrize("grow", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_byte_tokeniser_matches_python_reference(grow: bool, seed: int) -> None:
    from corpuskit.lm.ngram.vocab import Vocabulary

    rng = np.random.default_rng(seed)
    pieces = ["a", "bb", "é", "日本", "<s>", "</s>", "<unk>", "x\xa0y", "z\x1cw", "", "ü"]
    spaces = [" ", "  ", "\t", "\r", "\x0b", "\x0c", "\n"]
    lines = ["".join(str(rng.choice(pieces)) + str(rng.choice(spaces)) for _ in range(int(rng.integers(0, 9)))) for _ in range(301)]
    lines += ["", "   ", "trailing "]
    fast, slow = Vocabulary(["a", "é"]), Vocabulary(["a", "é"])
    for chunk in (lines[:100], lines[100:]):  # two chunks: the hash grows and keeps its state
        ids_fast, len_fast = fast.encode(chunk, grow=grow)
        ids_slow, len_slow = slow.encode_python(chunk, grow=grow)
        assert np.array_equal(ids_fast, ids_slow) and np.array_equal(len_fast, len_slow)
        assert fast.words == slow.words
    assert fast.index == {w: i for i, w in enumerate(fast.words)}
