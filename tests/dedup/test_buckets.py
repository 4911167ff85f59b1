"""The bucket-linking kernel against its every-pair reference on random buckets and sketches."""

import numpy as np
import pytest

from corpuskit.dedup.buckets import link_buckets, link_buckets_ref
from corpuskit.dedup.signatures import sketch_jaccard


def random_case(rng, n, buckets, k):
    """n documents whose sketches are drawn from a small pool of hashes (so pairs overlap a lot
    or a little), and random buckets of 2..12 of them."""
    pool = rng.choice(2**32, size=2 * k + 2, replace=False).astype(np.uint32)
    sketches = np.zeros((n, k), dtype=np.uint32)
    lengths = np.zeros(n, dtype=np.int64)
    for i in range(n):
        length = int(rng.integers(0, k + 1))
        sketches[i, :length] = np.sort(rng.choice(pool, size=length, replace=False))
        lengths[i] = length
    members, offsets = [], [0]
    for _ in range(buckets):
        size = int(rng.integers(2, min(n, 12) + 1)) if n >= 2 else 0
        members.extend(sorted(rng.choice(n, size=size, replace=False)))
        offsets.append(len(members))
    return np.array(offsets, dtype=np.int64), np.array(members, dtype=np.int64), sketches, lengths


def roots_from_edges(n, edges):
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in edges:
        ri, rj = find(int(i)), find(int(j))
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(n)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("verify", [True, False])
def test_kernel_components_equal_the_reference(seed, verify):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 40)), int(rng.integers(1, 9))
    offsets, members, sketches, lengths = random_case(rng, n, int(rng.integers(0, 15)), k)
    threshold = float(rng.choice([0.3, 0.5, 0.8, 1.0]))
    expected, _ = link_buckets_ref(offsets, members, sketches, lengths, k, threshold, verify)
    parent = np.arange(n, dtype=np.int64)
    edges = np.empty((n, 2), dtype=np.int64)
    links, checks = link_buckets(offsets, members, sketches, lengths, k, threshold, verify, parent, edges)
    assert roots_from_edges(n, edges[:links]) == expected.tolist()
    assert links == n - len(set(expected.tolist()))  # one link per join, never more
    for i, j in edges[:links]:  # every link is a same-bucket pair that passes the check
        assert not verify or sketch_jaccard(sketches[i, : lengths[i]], sketches[j, : lengths[j]], k) >= threshold
    assert verify or checks == 0


def test_kernel_jaccard_matches_the_reference_on_random_sketches():
    from corpuskit.dedup.buckets import _sketch_jaccard

    rng = np.random.default_rng(1)
    for _ in range(300):
        k = int(rng.integers(1, 12))
        pool = rng.choice(40, size=30, replace=False).astype(np.uint32)
        sketches = np.zeros((2, k), dtype=np.uint32)
        lengths = np.zeros(2, dtype=np.int64)
        for row in range(2):
            length = int(rng.integers(0, k + 1))
            sketches[row, :length] = np.sort(rng.choice(pool, size=length, replace=False))
            lengths[row] = length
        expected = sketch_jaccard(sketches[0, : lengths[0]], sketches[1, : lengths[1]], k)
        assert _sketch_jaccard(sketches, lengths, 0, 1, k) == expected


def test_one_big_bucket_of_copies_costs_linear_checks():
    n = 3000
    sketches = np.tile(np.arange(5, dtype=np.uint32), (n, 1))
    lengths = np.full(n, 5, dtype=np.int64)
    parent = np.arange(n, dtype=np.int64)
    edges = np.empty((n, 2), dtype=np.int64)
    links, checks = link_buckets(np.array([0, n], dtype=np.int64), np.arange(n, dtype=np.int64), sketches, lengths, 5, 0.8, True, parent, edges)
    assert links == n - 1 and checks == n - 1
