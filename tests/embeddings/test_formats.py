"""Vector file formats: round trips, gensim interop both ways, malformed files."""

import json

import numpy as np
import pytest
from gensim.models import KeyedVectors as GensimKeyedVectors

from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.modelfile import ModelFileError


def sample_kv(seed=0, size=31, dim=7):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(size - 3)] + ["über", "日本", "don't"]
    vectors = (rng.normal(size=(size, dim)) * 10 ** rng.uniform(-8, 3, size=(size, 1))).astype(np.float32)
    return KeyedVectors(words, vectors, counts=np.arange(size, 0, -1))


@pytest.mark.parametrize("name", ["v.txt", "v.vec", "v.bin", "v.npz"])
def test_round_trip_is_bit_identical(tmp_path, name):
    kv = sample_kv()
    kv.save(tmp_path / name)
    back = KeyedVectors.load(tmp_path / name)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)


def test_npz_keeps_subwords_and_counts(tmp_path):
    kv = sample_kv()
    rng = np.random.default_rng(1)
    kv = KeyedVectors(kv.index_to_key, kv.vectors, counts=kv.counts, ngram_vectors=rng.normal(size=(13, 7)), minn=2, maxn=4)
    kv.save(tmp_path / "v.npz")
    back = KeyedVectors.load(tmp_path / "v.npz")
    np.testing.assert_array_equal(back.ngram_vectors, kv.ngram_vectors)
    np.testing.assert_array_equal(back.counts, kv.counts)
    assert (back.minn, back.maxn) == (2, 4)
    np.testing.assert_array_equal(back["unseen"], kv["unseen"])


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files(tmp_path, binary):
    kv = sample_kv(seed=2)
    path = tmp_path / ("v.bin" if binary else "v.txt")
    kv.save(path)
    theirs = GensimKeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert theirs.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensim_files(tmp_path, binary):
    rng = np.random.default_rng(3)
    theirs = GensimKeyedVectors(vector_size=5)
    words = [f"g{i}" for i in range(20)] + ["ß"]
    theirs.add_vectors(words, rng.normal(size=(21, 5)).astype(np.float32))
    path = tmp_path / ("g.bin" if binary else "g.txt")
    theirs.save_word2vec_format(str(path), binary=binary)
    ours = KeyedVectors.load(path)
    assert ours.index_to_key == words
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)


def test_same_neighbours_as_gensim(tmp_path):
    kv = sample_kv(seed=4, size=200, dim=16)
    kv.save(tmp_path / "v.bin")
    theirs = GensimKeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    for word in ("w1", "w50", "über"):
        assert [w for w, _ in kv.most_similar(word, topn=5)] == [w for w, _ in theirs.most_similar(word, topn=5)]


@pytest.mark.parametrize(
    "content, message",
    [
        ("2 3\na 1 2 3\nb 1 2\n", r"m\.txt:3: expected a word and 3 numbers, found 2 fields"),
        ("2 3\na 1 2 3\nb 1 x 3\n", r"m\.txt:3: expected 3 numbers, found could not convert"),
        ("3 3\na 1 2 3\nb 1 2 3\n", r"expected 3 vectors \(as its header says\), found 2"),
        ("1 3\na 1 2 3\nb 1 2 3\n", r"m\.txt:3: expected at most the header's 1 vectors, found more"),
        ("hello\n", r"m\.txt:1: expected a header"),
    ],
)
def test_malformed_text_files_name_the_line(tmp_path, content, message):
    (tmp_path / "m.txt").write_text(content)
    with pytest.raises(ModelFileError, match=message):
        KeyedVectors.load(tmp_path / "m.txt")


def test_truncated_binary_file(tmp_path):
    sample_kv().save(tmp_path / "v.bin")
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-20])
    with pytest.raises(ModelFileError, match="entry 31: expected 31 vectors .* file ends early"):
        KeyedVectors.load(tmp_path / "cut.bin")


def test_npz_without_meta_is_rejected(tmp_path):
    np.savez(tmp_path / "x.npz", vectors=np.zeros((2, 2)))
    with pytest.raises(ModelFileError, match=r"x\.npz: expected a corpuskit\.keyed-vectors file .* without corpuskit metadata"):
        KeyedVectors.load(tmp_path / "x.npz")


def test_foreign_and_damaged_native_files_are_model_file_errors(tmp_path):
    from corpuskit.lm.ngram import NGramTrainer

    NGramTrainer(order=2, discount_fallback=True).train(["a b", "b c"]).save(tmp_path / "lm.npz")
    with pytest.raises(ModelFileError, match=r"lm\.npz: expected a corpuskit\.keyed-vectors file .*found format 'corpuskit\.ngram'"):
        KeyedVectors.load(tmp_path / "lm.npz")
    sample_kv().save(tmp_path / "v.npz")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "v.npz").read_bytes()[:100])
    with pytest.raises(ModelFileError, match=r"cut\.npz: expected"):
        KeyedVectors.load(tmp_path / "cut.npz")


def test_native_files_of_the_previous_layout_still_load(tmp_path):
    kv = sample_kv()
    meta = {"format": "corpuskit.keyed_vectors/1", "words": kv.index_to_key, "minn": 0, "maxn": 0}
    np.savez(tmp_path / "old.npz", vectors=kv.vectors, counts=np.arange(len(kv)),
             meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    again = KeyedVectors.load(tmp_path / "old.npz")
    assert again.index_to_key == kv.index_to_key and np.array_equal(again.vectors, kv.vectors)
    assert again.counts.tolist() == list(range(len(kv)))


def test_native_save_is_byte_identical_for_equal_vectors(tmp_path):
    sample_kv().save(tmp_path / "a.npz")
    sample_kv().save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
