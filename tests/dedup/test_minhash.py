"""MinHashDedup (map → reduce) against the sequential reference on generated near-duplicates."""

import numpy as np
import pytest

from corpuskit.dedup.minhash import MinHashDedup, band_keys, default_lsh_threshold, lsh_params
from corpuskit.dedup.reference import NearDuplicateIndex
from corpuskit.dedup.signatures import jaccard, shingle_set
from corpuskit.document import Document
from corpuskit.steps import GlobalStep


def unique_words(rng: np.random.Generator, n: int) -> list[str]:
    return [f"w{i}" for i in rng.choice(10**7, size=n, replace=False)]


def edit_tail(words: list[str], k: int, tag: str) -> list[str]:
    """Replace the last k words with new ones (tests measure the resulting Jaccard, not assume it)."""
    return words[: len(words) - k] + [f"{tag}{i}" for i in range(k)]


def split(docs, cuts):
    bounds = [0, *cuts, len(docs)]
    return [docs[a:b] for a, b in zip(bounds, bounds[1:])]


def reference_decisions(docs, **params):
    index = NearDuplicateIndex(**params)
    index.add([d.text for d in docs])
    reps = index.representatives()
    return [None if rep == i else docs[rep].id for i, rep in enumerate(reps)]


def our_decisions(tmp_path, docs, cuts, **params):
    step = MinHashDedup(**params)
    shards = split(docs, cuts)
    from corpuskit.steps import GlobalWork

    step.fit([iter(s) for s in shards], tmp_path)
    out = []
    for index, shard in enumerate(shards):
        step.load_shard_state(GlobalWork(tmp_path, len(shards)), index)
        for doc in shard:
            copy = Document(doc.id, doc.text)
            result = step.process(copy)
            out.append(None if isinstance(result, Document) else copy.metadata["duplicate_of"])
    return out, step


def clustered_corpus(seed, clusters=40, edits=100):
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(clusters):
        words = unique_words(rng, int(rng.integers(30, 300)))
        texts.append(" ".join(words))
        for _ in range(int(rng.integers(0, 4))):
            copy = list(words)
            for pos in rng.choice(len(copy), size=max(1, len(copy) // edits), replace=False):
                copy[pos] = f"x{rng.integers(10**9)}"
            texts.append(" ".join(copy))
    order = rng.permutation(len(texts))
    return [Document(f"d{i}", texts[j]) for i, j in enumerate(order)]


@pytest.mark.parametrize("seed,cuts,params", [
    (3, [], {}),
    (4, [10, 11, 50], {"threshold": 0.7}),
    (5, [1, 2, 3], {"verify": False}),
    (6, [37], {"hashing": "sha1", "num_perm": 64, "sketch_size": 20}),
])
def test_same_decisions_as_the_sequential_reference(tmp_path, seed, cuts, params):
    docs = clustered_corpus(seed, edits=int(np.random.default_rng(seed).integers(8, 60)))
    ours, _ = our_decisions(tmp_path, docs, cuts, **params)
    assert ours == reference_decisions(docs, **params)
    assert any(d is not None for d in ours)


def test_key_ranges_do_not_change_decisions(tmp_path, monkeypatch):
    docs = clustered_corpus(7)
    expected, _ = our_decisions(tmp_path / "a", docs, [20, 60])
    monkeypatch.setattr(MinHashDedup, "part_rows", classmethod(lambda cls: 7))
    split_up, step = our_decisions(tmp_path / "b", docs, [20, 60])
    assert split_up == expected
    assert len(list((tmp_path / "b" / "reduce").glob(f"band-000-*"))) > 1


def test_chains_end_in_one_cluster_with_the_earliest_kept(tmp_path):
    rng = np.random.default_rng(2)
    a = unique_words(rng, 500)
    b = a[:450] + [f"b{i}" for i in range(50)]  # a~b about 0.83
    c = b[:50] + [f"c{i}" for i in range(50)] + b[100:]  # b~c about 0.8, a~c lower
    texts = [" ".join(x) for x in (c, b, a)]  # c is earliest
    sets = [shingle_set(t) for t in texts]
    assert jaccard(sets[2], sets[1]) >= 0.8 and jaccard(sets[1], sets[0]) >= 0.8 > jaccard(sets[2], sets[0])
    docs = [Document(name, t) for name, t in zip("cba", texts)]
    ours, _ = our_decisions(tmp_path, docs, [1, 2], threshold=0.75, num_perm=256)
    assert ours == [None, "c", "c"] == reference_decisions(docs, threshold=0.75, num_perm=256)


def test_a_long_chain_across_shards(tmp_path):
    rng = np.random.default_rng(11)
    words = unique_words(rng, 200)
    chain = []
    for step in range(60):  # each link edits 4 more words: neighbours similar, ends far apart
        words = list(words)
        for pos in rng.choice(len(words), size=4, replace=False):
            words[pos] = f"e{step}-{pos}"
        chain.append(" ".join(words))
    docs = [Document(f"c{i}", t) for i, t in enumerate(chain[::-1])]
    assert jaccard(shingle_set(chain[0]), shingle_set(chain[-1])) < 0.1
    ours, _ = our_decisions(tmp_path, docs, [5, 17, 18, 40], threshold=0.7)
    assert ours == reference_decisions(docs, threshold=0.7)
    assert ours.count(None) < 10


def test_a_star_of_ten_thousand_documents(tmp_path):
    """Each leaf is the centre plus words of its own: leaf~centre above the threshold, leaf~leaf
    below it. Every leaf must end in the centre's cluster, with O(leaves) sketch checks (the
    low LSH threshold puts nearly every leaf in one bucket per band; a leaf misses the centre's
    buckets with probability ~1e-9)."""
    rng = np.random.default_rng(12)
    centre = unique_words(rng, 60)
    leaves = 10_000
    docs = [Document("centre", " ".join(centre))]
    for i in range(leaves):
        docs.append(Document(f"leaf{i}", " ".join(centre + [f"l{i}-{j}" for j in range(22)])))
    sets = [shingle_set(docs[i].text) for i in (0, 1, 2)]
    assert jaccard(sets[0], sets[1]) >= 0.6 > jaccard(sets[1], sets[2])
    ours, step = our_decisions(tmp_path, docs, [3000, 7000], threshold=0.6, lsh_threshold=0.2)
    assert ours == [None] + ["centre"] * leaves
    assert step.counters()["sketch_checks"] < 4 * leaves * step.bands


def test_duplicate_of_identical_records_and_empty_texts(tmp_path):
    docs = [
        Document("same", "alpha beta gamma delta epsilon zeta eta theta"),
        Document("other", "completely different words in this other record here"),
        Document("same", "alpha beta gamma delta epsilon zeta eta theta"),  # identical to the first: dropped
        Document("x", ""),  # no words: never clustered
        Document("y", ""),
    ]
    ours, _ = our_decisions(tmp_path, docs, [2])
    assert ours == [None, None, "same", None, None]


def test_empty_input_and_empty_shards(tmp_path):
    ours, _ = our_decisions(tmp_path / "a", [], [])
    assert ours == []
    docs = [Document("a", "one two three four five six"), Document("b", "one two three four five six")]
    ours, _ = our_decisions(tmp_path / "b", docs, [0, 0, 1, 1])
    assert ours == [None, "a"]


def test_band_keys_equal_exactly_when_band_rows_are_equal():
    rng = np.random.default_rng(1)
    sig = rng.integers(0, 2**32, size=(50, 12), dtype=np.uint64).astype(np.uint32)
    sig[7, :4] = sig[3, :4]  # same first band only
    keys = band_keys(sig, bands=3, rows=4)
    assert keys[7, 0] == keys[3, 0] and keys[7, 1] != keys[3, 1]
    assert len(np.unique(keys[:, 2])) == 50
    assert keys.dtype == np.uint64 and keys.shape == (50, 3)


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
    step = MinHashDedup(threshold=0.8, verify=False)
    assert (step.bands, step.rows) == lsh_params(0.8, 128)


def test_reference_with_sha1_and_no_check_clusters_exactly_like_datasketch():
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
