"""n-gram counts as map -> merge: canonical, config-checked, byte-identical ARPA from shards; model files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpuskit.lm.cli import lm
from corpuskit.lm.ngram import NGramCounts, NGramModel, NGramTrainer, count_ngrams
from corpuskit.lm.ngram.vocab import pack_words, unpack_words
from corpuskit.modelfile import ModelFileError
from corpuskit.trainer import CountsMismatchError


def test_four_shards_merged_in_two_orders_give_a_byte_identical_arpa(train_sentences, tmp_path) -> None:
    texts = [s.replace("w1 ", "W1 ") for s in train_sentences]  # some upper case, for the lowercase option
    shards = [texts[:100], texts[100:101], texts[101:350], texts[350:]]
    trainer = NGramTrainer(order=4, lowercase=True, discount_fallback=True)
    parts = [trainer.count(shard) for shard in shards]
    left = parts[0].merge(parts[1]).merge(parts[2]).merge(parts[3])
    right = parts[2].merge(parts[0]).merge(parts[3].merge(parts[1]))
    whole = trainer.count(texts)
    assert left == right == whole and "W1" not in whole.words
    right.save(tmp_path / "right.npz")
    whole.save(tmp_path / "whole.npz")
    assert (tmp_path / "right.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()
    trainer.train_from_counts(NGramCounts.load(tmp_path / "right.npz")).save(tmp_path / "merged.arpa")
    trainer.train_from_counts(left).save(tmp_path / "left.arpa")
    NGramTrainer(order=4, lowercase=True, discount_fallback=True).train(texts).save(tmp_path / "whole.arpa")
    assert (tmp_path / "merged.arpa").read_bytes() == (tmp_path / "whole.arpa").read_bytes()
    assert (tmp_path / "left.arpa").read_bytes() == (tmp_path / "whole.arpa").read_bytes()


def test_merge_keeps_inputs_and_refuses_other_configs() -> None:
    a = count_ngrams(["b a", "c"], 2)
    b = count_ngrams(["a d"], 2)
    rows_before = a.rows.copy()
    merged = a.merge(b)
    assert merged.words == ["<unk>", "<s>", "</s>", "a", "b", "c", "d"]
    assert np.array_equal(a.rows, rows_before) and merged.tokens == 5 and merged.sentences == 3
    assert merged.rows.dtype == np.int32 and merged.counts.dtype == np.int64
    with pytest.raises(CountsMismatchError, match="order: 2 vs 3"):
        a.merge(count_ngrams(["a"], 3))
    with pytest.raises(CountsMismatchError, match="lowercase: False vs True"):
        a.merge(count_ngrams(["a"], 2, lowercase=True))
    with pytest.raises(CountsMismatchError, match="order: 2 vs 3"):
        NGramTrainer(order=3).train_from_counts(a)


def test_words_pack_into_arrays_and_back_whatever_they_hold() -> None:
    words = ["<unk>", "", "über", "日本", "a\udcff", "\ud800x"]  # a surrogate escape and a lone surrogate
    assert unpack_words(*pack_words(words)) == words
    data, offsets = pack_words(words)
    with pytest.raises(ValueError, match="offsets"):
        unpack_words(data, offsets[:-1])


def test_native_model_files(train_sentences, tmp_path) -> None:
    model = NGramTrainer(order=3).train(train_sentences)
    model.save(tmp_path / "m.npz")
    again = NGramModel.load(tmp_path / "m.npz")
    assert again.words == model.words and again.counts() == model.counts()
    # the layout before corpuskit.modelfile still loads
    meta = {"format": "corpuskit.ngram/1", "order": model.order, "words": model.words, "meta": {"source": "old"}}
    np.savez(tmp_path / "old.npz", parent=model.parent, word=model.word, prob=model.prob, backoff=model.backoff, offsets=model.offsets,
             meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    old = NGramModel.load(tmp_path / "old.npz")
    np.testing.assert_array_equal(old.score_batch(train_sentences[:20]), model.score_batch(train_sentences[:20]))
    # counts are not a model, and a cut file is not a file
    count_ngrams(train_sentences, 3).save(tmp_path / "c.npz")
    with pytest.raises(ModelFileError, match=r"c\.npz: expected a corpuskit\.ngram file .*found format 'corpuskit\.ngram-counts'"):
        NGramModel.load(tmp_path / "c.npz")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "m.npz").read_bytes()[:200])
    with pytest.raises(ModelFileError, match=r"cut\.npz: expected a corpuskit\.ngram file"):
        NGramModel.load(tmp_path / "cut.npz")
    with pytest.raises(ModelFileError, match=r"m\.npz: expected a corpuskit\.ngram-counts file"):
        NGramCounts.load(tmp_path / "m.npz")


def test_cli_counts_of_shards_train_the_same_arpa(tmp_path, train_sentences) -> None:
    texts = [s.replace("w2", "W2") for s in train_sentences]
    (tmp_path / "all.txt").write_text("\n".join(texts) + "\n")
    for i, part in enumerate((texts[:300], texts[300:])):
        (tmp_path / f"s{i}.txt").write_text("\n".join(part) + "\n")
    runner = CliRunner()
    for i in range(2):
        result = runner.invoke(lm, ["ngram", "count", "--order", "2", "--lowercase", str(tmp_path / f"s{i}.txt"), "-o", str(tmp_path / f"s{i}.npz")])
        assert result.exit_code == 0, result.output
    shards = [str(tmp_path / "s1.npz"), str(tmp_path / "s0.npz")]
    result = runner.invoke(lm, ["ngram", "train", *shards, "-o", str(tmp_path / "shards.arpa")])  # order, lowercase: the counts'
    assert result.exit_code == 0, result.output
    result = runner.invoke(lm, ["ngram", "train", "--order", "2", "--lowercase", str(tmp_path / "all.txt"), "-o", str(tmp_path / "all.arpa")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "shards.arpa").read_bytes() == (tmp_path / "all.arpa").read_bytes()
    result = runner.invoke(lm, ["ngram", "train", "--order", "3", *shards, "-o", str(tmp_path / "x.arpa")])
    assert result.exit_code == 1 and "order: 2 vs 3" in result.output and not (tmp_path / "x.arpa").exists()
