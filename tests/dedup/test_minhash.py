"""MinHashDedup / NearDuplicateIndex on generated near-duplicates with known Jaccard."""

import json

import numpy as np
import pytest

from corpuskit.dedup.minhash import MinHashDedup, NearDuplicateIndex, batched, default_lsh_threshold, lsh_params
from corpuskit.dedup.signatures import jaccard, shingle_set
from corpuskit.document import CorpusError, Document, Drop
from corpuskit.steps import GlobalStep


def unique_words(rng: np.random.Generator, n: int) -> list[str]:
    return [f"w{i}" for i in rng.choice(10**7, size=n, replace=False)]


def edit_tail(words: list[str], k: int, tag: str) -> list[str]:
    """Replace the last k words with new ones (tests measure the resulting Jaccard, not assume it)."""
    return words[: len(words) - k] + [f"{tag}{i}" for i in range(k)]


def fit_and_process(step, docs, tmp_path):
    step.fit(iter(docs))
    step.save_state(tmp_path)
    fresh = type(step)(**step.params())
    fresh.load_state(tmp_path)
    return [fresh.process(Document(d.id, d.text, dict(d.metadata))) for d in docs]


def test_near_duplicates_found_and_far_pairs_kept(tmp_path):
    rng = np.random.default_rng(1)
    base = unique_words(rng, 400)
    close = edit_tail(base, 8, "c")  # Jaccard ~0.96
    far = edit_tail(base, 200, "f")  # Jaccard ~0.33
    other = unique_words(rng, 300)
    assert jaccard(shingle_set(" ".join(base)), shingle_set(" ".join(close))) > 0.9
    assert jaccard(shingle_set(" ".join(base)), shingle_set(" ".join(far))) < 0.5
    docs = [Document("base", " ".join(base)), Document("other", " ".join(other)), Document("close", " ".join(close)), Document("far", " ".join(far))]
    results = fit_and_process(MinHashDedup(), docs, tmp_path)
    assert isinstance(results[0], Document) and isinstance(results[1], Document) and isinstance(results[3], Document)
    assert results[2] == Drop("near_duplicate")


def test_chains_end_in_one_cluster_with_the_earliest_kept(tmp_path):
    rng = np.random.default_rng(2)
    a = unique_words(rng, 500)
    b = a[:450] + [f"b{i}" for i in range(50)]  # a~b about 0.83
    c = b[:50] + [f"c{i}" for i in range(50)] + b[100:]  # b~c about 0.8, a~c lower
    texts = [" ".join(x) for x in (a, b, c)]
    sets = [shingle_set(t) for t in texts]
    assert jaccard(sets[0], sets[1]) >= 0.8 and jaccard(sets[1], sets[2]) >= 0.8 > jaccard(sets[0], sets[2])
    index = NearDuplicateIndex(threshold=0.75, num_perm=256)
    index.add(texts[::-1])  # c, b, a: c is earliest
    assert index.representatives().tolist() == [0, 0, 0]


def test_generated_corpus_recall_and_precision(tmp_path):
    rng = np.random.default_rng(3)
    texts, origin = [], []
    for cluster in range(40):
        words = unique_words(rng, int(rng.integers(150, 400)))
        texts.append(" ".join(words)); origin.append(cluster)
        for _ in range(int(rng.integers(0, 3))):
            copy = list(words)
            for pos in rng.choice(len(copy), size=max(1, len(copy) // 100), replace=False):
                copy[pos] = f"x{rng.integers(10**9)}"
            texts.append(" ".join(copy)); origin.append(cluster)
    order = rng.permutation(len(texts))
    texts = [texts[i] for i in order]
    origin = [origin[i] for i in order]
    index = NearDuplicateIndex()
    for batch in batched(texts, 17):
        index.add(batch)
    reps = index.representatives()
    for i, rep in enumerate(reps):
        first_of_cluster = origin.index(origin[i])
        assert rep == first_of_cluster, (i, rep, first_of_cluster)


def test_deterministic_decisions(tmp_path):
    rng = np.random.default_rng(4)
    base = unique_words(rng, 200)
    docs = [Document(f"d{i}", " ".join(edit_tail(base, i % 3, f"t{i}"))) for i in range(12)]
    first = MinHashDedup(); first.fit(iter(docs))
    second = MinHashDedup(); second.fit(iter(docs))
    assert first.decisions.drop == second.decisions.drop and len(first.decisions.drop) == 11
    assert set(first.decisions.drop.values()) == {"d0"}


def test_colliding_ids_and_identical_records(tmp_path):
    docs = [
        Document("same", "alpha beta gamma delta epsilon zeta eta theta"),
        Document("same", "completely different words in this other record here"),
        Document("same", "alpha beta gamma delta epsilon zeta eta theta"),  # identical to the first: dropped
        Document("x", ""),  # no words: never clustered
        Document("y", ""),
    ]
    results = fit_and_process(MinHashDedup(), docs, tmp_path)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Document", "Document", "Drop", "Document", "Document"]


def test_duplicate_of_in_metadata_and_state_is_json(tmp_path):
    docs = [Document("keep", "one two three four five six"), Document("dup", "one two three four five six")]
    step = MinHashDedup()
    step.fit(iter(docs))
    step.save_state(tmp_path)
    state = json.loads((tmp_path / "minhash_dedup.json").read_text())
    assert state["params"]["threshold"] == 0.8 and list(state["drop"].values()) == ["keep"]
    doc = Document("dup", "one two three four five six")
    assert step.process(doc) == Drop("near_duplicate") and doc.metadata["duplicate_of"] == "keep"


def test_state_errors_name_the_file(tmp_path):
    step = MinHashDedup()
    with pytest.raises(CorpusError, match="minhash_dedup.json: no saved"):
        step.load_state(tmp_path)
    step.fit(iter([Document("a", "x y z")]))
    step.save_state(tmp_path)
    with pytest.raises(CorpusError, match="fitted with"):
        MinHashDedup(threshold=0.9).load_state(tmp_path)
    (tmp_path / "minhash_dedup.json").write_text("{\n broken")
    with pytest.raises(CorpusError, match=r"minhash_dedup.json:2: not valid JSON"):
        step.load_state(tmp_path)


def test_is_a_global_step_and_validates_parameters():
    assert isinstance(MinHashDedup(), GlobalStep)
    with pytest.raises(ValueError, match="threshold"):
        MinHashDedup(threshold=0.0)
    with pytest.raises(ValueError, match="num_perm"):
        MinHashDedup(num_perm=1)
    with pytest.raises(ValueError, match="sketch_size"):
        MinHashDedup(sketch_size=0)


def test_lsh_parameters_come_from_datasketch():
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    assert lsh_params(0.7, 128) == (lsh.b, lsh.r)
    assert default_lsh_threshold(0.8, True) == pytest.approx(0.6)
    assert default_lsh_threshold(0.8, False) == 0.8
    index = NearDuplicateIndex(threshold=0.8, verify=False)
    assert (index.bands, index.rows) == lsh_params(0.8, 128)


def test_empty_inputs():
    index = NearDuplicateIndex()
    index.add([])
    assert index.representatives().tolist() == []
    step = MinHashDedup()
    step.fit(iter([]))
    assert step.decisions.drop == {} and step.decisions.keep_once == set()


def test_sha1_without_check_clusters_exactly_like_datasketch_end_to_end():
    from datasketch import MinHash, MinHashLSH

    from corpuskit.dedup.unionfind import UnionFind

    rng = np.random.default_rng(9)
    texts = []
    for _ in range(25):
        words = unique_words(rng, int(rng.integers(20, 120)))
        texts.append(" ".join(words))
        for _ in range(int(rng.integers(0, 3))):
            copy = list(words)
            copy[int(rng.integers(len(copy)))] = "edited"
            texts.append(" ".join(copy))
    lsh = MinHashLSH(threshold=0.8, num_perm=64)
    union = UnionFind()
    for ordinal, text in enumerate(texts):
        minhash = MinHash(num_perm=64, seed=1)
        for shingle in shingle_set(text):
            minhash.update(shingle.encode("utf-8"))
        union.add()
        for other in lsh.query(minhash):
            union.union(ordinal, other)
        lsh.insert(ordinal, minhash)
    index = NearDuplicateIndex(threshold=0.8, num_perm=64, hashing="sha1", verify=False)
    index.add(texts)
    assert index.representatives().tolist() == [union.find(i) for i in range(len(texts))]
