"""count -> merge -> train_from_counts for word2vec, fastText and GloVe: shards give the whole corpus's bytes."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from corpuskit.embeddings.counts import CooccurrenceCounts, VocabCounts
from corpuskit.embeddings.fasttext import FastTextTrainer
from corpuskit.embeddings.glove import GloVeConfig, GloVeTrainer
from corpuskit.embeddings.word2vec import Word2VecTrainer
from corpuskit.modelfile import ModelFileError
from corpuskit.trainer import CountsMismatchError


def corpus(n: int = 240, seed: int = 3) -> list[str]:
    """Zipf-ish words, so some fall below min_count=2 and some counts tie."""
    rng = np.random.default_rng(seed)
    return [" ".join(f"w{k}" for k in rng.zipf(1.4, size=int(rng.integers(1, 12))) % 60) for _ in range(n)]


TRAINERS = {
    "word2vec": lambda: Word2VecTrainer(dim=8, window=3, min_count=2, epochs=2, workers=1, seed=7, sample=1e-2),
    "fasttext": lambda: FastTextTrainer(dim=8, window=3, min_count=2, epochs=1, workers=1, seed=7, bucket=500, maxn=4),
    "glove": lambda: GloVeTrainer(dim=8, window=3, min_count=2, epochs=3, workers=1, seed=7, x_max=5),
}


@pytest.mark.parametrize("name", list(TRAINERS))
def test_four_shards_merged_in_any_order_give_byte_identical_vectors(name, tmp_path):
    texts = corpus()
    shards = [texts[0:50], texts[50:130], texts[130:131], texts[131:]]
    trainer = TRAINERS[name]()
    parts = [trainer.count(iter(shard)) for shard in shards]
    left = parts[0].merge(parts[1]).merge(parts[2]).merge(parts[3])
    right = parts[3].merge(parts[1].merge(parts[2])).merge(parts[0])
    whole = trainer.count(iter(texts))
    assert left == right == whole
    for label, counts in (("left", left), ("right", right), ("whole", whole)):
        counts.save(tmp_path / f"{label}.counts.npz")
    assert (tmp_path / "left.counts.npz").read_bytes() == (tmp_path / "whole.counts.npz").read_bytes()
    assert (tmp_path / "right.counts.npz").read_bytes() == (tmp_path / "whole.counts.npz").read_bytes()
    loaded = type(whole).load(tmp_path / "right.counts.npz")
    TRAINERS[name]().train(iter(texts)).save(tmp_path / "whole.npz")  # one read of the corpus
    TRAINERS[name]().train_from_counts(loaded, texts).save(tmp_path / "merged.npz")
    assert (tmp_path / "merged.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()


def test_vocab_counts_are_canonical_and_merge_exactly():
    a = VocabCounts({"lowercase": True}, ["b", "a", "c"], np.array([2, 2, 5]))
    assert a.words == ["c", "a", "b"] and a.counts.tolist() == [5, 2, 2]  # count, then the word
    b = VocabCounts({"lowercase": True}, ["d", "a"], np.array([1, 4]))
    merged = a.merge(b)
    assert merged.words == ["a", "c", "b", "d"] and merged.counts.tolist() == [6, 5, 2, 1]
    assert merged == b.merge(a) and a.counts.tolist() == [5, 2, 2]  # inputs unchanged
    assert merged.vocabulary(min_count=2, max_vocab_size=2).words == ["a", "c"]
    with pytest.raises(CountsMismatchError, match="lowercase: True vs False"):
        a.merge(VocabCounts({"lowercase": False}, ["a"], np.array([1])))


def test_cooccurrence_counts_remap_ids_when_merging():
    config = {"lowercase": True, "window": 2}
    a = CooccurrenceCounts(config, ["x", "y"], np.array([1, 3]), np.array([[0, 1, 1], [1, 1, 3]]), np.array([4, 2]))
    assert a.words == ["y", "x"] and a.rows.tolist() == [[0, 0, 3], [0, 1, 1]]  # renumbered, lower id first, sorted
    b = CooccurrenceCounts(config, ["z", "x"], np.array([9, 1]), np.array([[0, 1, 2], [0, 1, 1]]), np.array([1, 5]))
    merged = a.merge(b)
    assert merged.words == ["z", "y", "x"]
    pairs = {(merged.words[r], merged.words[c], d): int(n) for (r, c, d), n in zip(merged.rows.tolist(), merged.pair_counts)}
    assert pairs == {("y", "x", 1): 4, ("y", "y", 3): 2, ("z", "x", 2): 1, ("z", "x", 1): 5}
    assert merged == b.merge(a)
    with pytest.raises(CountsMismatchError, match="window: 2 vs 5"):
        a.merge(CooccurrenceCounts({"lowercase": True, "window": 5}, ["x"], np.array([1]), np.zeros((0, 3)), np.zeros(0)))


def test_trainers_refuse_counts_of_another_counting_config():
    texts = corpus(40)
    glove_counts = GloVeTrainer(window=3).count(texts)
    with pytest.raises(CountsMismatchError, match="window: 3 vs 4"):
        GloVeTrainer(window=4, min_count=1).train_from_counts(glove_counts)
    counts = Word2VecTrainer(lowercase=False).count(texts)
    with pytest.raises(CountsMismatchError, match="lowercase: False vs True"):
        Word2VecTrainer(min_count=1).train_from_counts(counts, texts)
    with pytest.raises(TypeError, match="reads the corpus again"):
        Word2VecTrainer(min_count=1, lowercase=False).train_from_counts(counts)
    with pytest.raises(TypeError, match="trains from CooccurrenceCounts"):
        GloVeTrainer(window=3).train_from_counts(counts)


def test_training_does_not_change_the_config():
    config = GloVeConfig(dim=4, window=2, min_count=1, epochs=1)
    before = copy.deepcopy(config)
    trainer = GloVeTrainer(config)
    trainer.train(corpus(30))
    assert config == before and trainer.config is not config


def test_counts_files_of_another_kind_are_refused(tmp_path):
    Word2VecTrainer().count(corpus(20)).save(tmp_path / "w.npz")
    with pytest.raises(ModelFileError, match=r"w\.npz: expected a corpuskit\.glove-counts file .*found format 'corpuskit\.embed-vocab-counts'"):
        CooccurrenceCounts.load(tmp_path / "w.npz")
