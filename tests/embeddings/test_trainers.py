"""word2vec, fastText and GloVe trainers on synthetic corpora with planted structure."""

import numpy as np
import pytest

from corpuskit.document import CorpusError
from corpuskit.embeddings.cooccurrence import count_cooccurrences, count_window_rows, weigh
from corpuskit.embeddings.fasttext import FastTextTrainer
from corpuskit.embeddings.glove import GloVeTrainer
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.reference import window_rows_reference
from corpuskit.embeddings.stream import spill_corpus
from corpuskit.embeddings.word2vec import Word2VecTrainer
from corpuskit.spill import SpillCounter

GROUPS = [[f"{name}{i}" for i in range(6)] for name in ("red", "cat", "car", "sea")]


def planted_corpus(sentences=1200, length=8, seed=0):
    """Texts whose words come from one group each: same-group words only co-occur with each other."""
    rng = np.random.default_rng(seed)
    for _ in range(sentences):
        group = GROUPS[rng.integers(len(GROUPS))]
        yield " ".join(rng.choice(group, size=length))


def group_accuracy(kv: KeyedVectors) -> float:
    """Fraction of words whose 3 nearest neighbours all belong to their own group."""
    hits = 0
    for group in GROUPS:
        for word in group:
            hits += all(neighbour[:3] == word[:3] for neighbour, _ in kv.most_similar(word, topn=3))
    return hits / sum(len(g) for g in GROUPS)


@pytest.mark.parametrize("arch", ["sg", "cbow"])
@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_word2vec_recovers_planted_groups(arch, loss):
    trainer = Word2VecTrainer(arch=arch, loss=loss, dim=16, window=3, min_count=1, sample=0, epochs=3, workers=2, alpha=0.05)
    kv = trainer.train(planted_corpus())
    assert len(kv) == 24 and kv.vector_size == 16
    assert group_accuracy(kv) >= 0.9
    assert len(trainer.history) == 3
    assert trainer.history[-1].loss < trainer.history[0].loss
    assert trainer.history[0].words == 1200 * 8


def test_one_worker_and_a_seed_reproduce_a_run():
    def run(seed):
        return Word2VecTrainer(dim=8, min_count=1, epochs=2, workers=1, seed=seed, chunk_tokens=100).train(planted_corpus(200)).vectors

    np.testing.assert_array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_corpus_is_read_once():
    class OneShot:
        def __init__(self):
            self.passes = 0

        def __iter__(self):
            self.passes += 1
            return planted_corpus(100)

    corpus = OneShot()
    Word2VecTrainer(dim=4, min_count=1, epochs=3).train(corpus)
    assert corpus.passes == 1


@pytest.mark.parametrize("trainer_class", [Word2VecTrainer, FastTextTrainer, GloVeTrainer])
def test_bad_corpora_raise_clear_errors(trainer_class):
    with pytest.raises(CorpusError, match="empty corpus"):
        trainer_class(min_count=1).train(iter(["", "  ", "!!"]))
    with pytest.raises(CorpusError, match="min_count=100"):
        trainer_class(min_count=100).train(planted_corpus(10))


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="arch"):
        Word2VecTrainer(arch="skipgram")
    with pytest.raises(ValueError, match="minn"):
        FastTextTrainer(minn=4, maxn=3)


def test_fasttext_groups_and_out_of_vocabulary_words():
    trainer = FastTextTrainer(dim=16, window=3, min_count=1, sample=0, epochs=3, workers=2, alpha=0.05, minn=2, maxn=4, bucket=5000)
    kv = trainer.train(planted_corpus())
    assert group_accuracy(kv) >= 0.9
    assert kv.has_subwords and kv.ngram_vectors.shape == (5000, 16)
    oov = kv["cat7"]  # never seen: built from its n-grams ("<c", "ca", "cat", ...)
    assert kv.most_similar(oov, topn=1)[0][0].startswith("cat")


@pytest.mark.parametrize("arch", ["sg", "cbow"])
def test_fasttext_hierarchical_softmax_trains(arch):
    kv = FastTextTrainer(arch=arch, loss="hs", dim=12, window=3, min_count=1, sample=0, epochs=3, bucket=1000, alpha=0.05).train(
        planted_corpus(800)
    )
    assert group_accuracy(kv) >= 0.8


def test_glove_recovers_planted_groups():
    trainer = GloVeTrainer(dim=16, window=3, min_count=1, epochs=25, workers=2, x_max=10)
    kv = trainer.train(planted_corpus())
    assert group_accuracy(kv) >= 0.9
    assert trainer.history[-1].loss < trainer.history[0].loss


def test_cooccurrence_spilling_gives_the_same_counts(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    texts = (" ".join(f"w{k}" for k in rng.zipf(1.3, size=12) % 400) for _ in range(3000))
    vocab, stream = spill_corpus(texts, tmp_path, min_count=1)
    spilled_dir, memory_dir = tmp_path / "s", tmp_path / "m"
    spilled_dir.mkdir(), memory_dir.mkdir()
    in_memory_rows = count_window_rows(stream, len(vocab), 4, memory_bytes=64 << 20, spill_dir=memory_dir)
    counter_spills = []
    original = SpillCounter._write_run
    monkeypatch.setattr(SpillCounter, "_write_run", lambda self, rows, counts: (counter_spills.append(len(rows)), original(self, rows, counts)))
    spilled_rows = count_window_rows(stream, len(vocab), 4, memory_bytes=20_000, spill_dir=spilled_dir)
    assert len(counter_spills) > 2
    assert not any(memory_dir.iterdir()) and not any(spilled_dir.iterdir())  # spill files are removed
    np.testing.assert_array_equal(spilled_rows[0], in_memory_rows[0])
    np.testing.assert_array_equal(spilled_rows[1], in_memory_rows[1])
    in_memory = weigh(*in_memory_rows, len(vocab))
    spilled = count_cooccurrences(stream, len(vocab), 4, spilled_dir, memory_bytes=20_000)
    np.testing.assert_array_equal(spilled.rows, in_memory.rows)
    np.testing.assert_array_equal(spilled.cols, in_memory.cols)
    np.testing.assert_array_equal(spilled.counts, in_memory.counts)  # exact counts: bit-equal sums
    # symmetric: X[i, j] == X[j, i]; and the 1/distance sums match the plain reference
    lookup = {(r, c): v for r, c, v in zip(in_memory.rows.tolist(), in_memory.cols.tolist(), in_memory.counts.tolist())}
    assert all(lookup[(c, r)] == v for (r, c), v in lookup.items())
    want: dict[tuple[int, int], float] = {}
    for (a, b, d), n in window_rows_reference(stream.ids(), 4).items():
        want[(a, b)] = want.get((a, b), 0.0) + n / d * (2 if a == b else 1)
        if a != b:
            want[(b, a)] = want.get((b, a), 0.0) + n / d
    assert lookup.keys() == want.keys()
    assert all(lookup[k] == pytest.approx(want[k]) for k in want)


def test_weigh_sums_counts_over_distance_and_drops_words_outside_the_vocabulary():
    rows = np.array([[0, 1, 1], [0, 1, 2], [0, 3, 1], [1, 1, 2]], dtype=np.int32)
    matrix = weigh(rows, np.array([2, 3, 1, 4]), vocab_size=2)
    assert matrix.rows.tolist() == [0, 1, 1] and matrix.cols.tolist() == [1, 1, 0]  # upper triangle, then its mirror
    assert matrix.counts.tolist() == [3.5, 4.0, 3.5]  # 2/1 + 3/2 both ways; a word with itself: 2 * 4/2
