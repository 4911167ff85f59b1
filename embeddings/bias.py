"""Bias audits: WEAT effect size and permutation p-value, and hard debiasing (neutralise + equalise).

WEAT (Caliskan et al., 2017): with s(w) = mean cos(w, A) - mean cos(w, B), the effect size is
(mean s(X) - mean s(Y)) / std s(X u Y), and the p-value the share of equal-size re-partitions of
X u Y whose sum s(X_i) - sum s(Y_i) exceeds the observed one. Hard debiasing (Bolukbasi et al.,
2016): the bias direction is the first principal component of definitional pairs' offsets from
their midpoints; every other word loses its component along it, and equalise pairs end up
symmetric around it. Memory: O(V * dim) for the debiased copy.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpuskit.embeddings.keyed_vectors import KeyedVectors, _normalize


@dataclass
class WeatResult:
    effect_size: float
    p_value: float
    statistic: float
    permutations: int  # re-partitions scored (all of them when exact)
    exact: bool


def _unit_rows(kv: KeyedVectors, words: Sequence[str]) -> np.ndarray:
    if not words:
        raise ValueError("WEAT word sets must not be empty")
    return np.stack([kv.get_vector(w, norm=True) for w in words]).astype(np.float64)


def weat(
    kv: KeyedVectors,
    targets_x: Sequence[str],
    targets_y: Sequence[str],
    attributes_a: Sequence[str],
    attributes_b: Sequence[str],
    permutations: int = 10_000,
    seed: int = 0,
) -> WeatResult:
    """WEAT effect size and one-sided p-value; exact when all re-partitions number <= `permutations`."""
    x, y = _unit_rows(kv, targets_x), _unit_rows(kv, targets_y)
    a, b = _unit_rows(kv, attributes_a), _unit_rows(kv, attributes_b)
    targets = np.vstack([x, y])
    association = (targets @ a.T).mean(axis=1) - (targets @ b.T).mean(axis=1)  # s(w) for X then Y
    size_x = len(x)
    statistic = association[:size_x].sum() - association[size_x:].sum()
    effect = (association[:size_x].mean() - association[size_x:].mean()) / association.std(ddof=1)
    total = association.sum()
    n = len(association)
    exact = math.comb(n, size_x) <= permutations
    if exact:
        splits = (np.array(c) for c in itertools.combinations(range(n), size_x))
    else:
        rng = np.random.default_rng(seed)
        splits = (rng.permutation(n)[:size_x] for _ in range(permutations))
    greater, scored = 0, 0
    for members in splits:
        in_x = association[members].sum()
        greater += (2 * in_x - total) > statistic + 1e-12
        scored += 1
    return WeatResult(float(effect), float(greater) / scored, float(statistic), scored, exact)


def bias_direction(kv: KeyedVectors, definitional_pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """Unit vector of the first principal component of the pairs' offsets from their midpoints."""
    if not definitional_pairs:
        raise ValueError("need at least one definitional pair, e.g. ('he', 'she')")
    offsets = []
    for a, b in definitional_pairs:
        va, vb = kv.get_vector(a, norm=True), kv.get_vector(b, norm=True)
        middle = (va + vb) / 2
        offsets += [va - middle, vb - middle]
    _, _, components = np.linalg.svd(np.array(offsets, dtype=np.float64), full_matrices=False)
    direction = components[0]
    a, b = definitional_pairs[0]
    if (kv.get_vector(a, norm=True) - kv.get_vector(b, norm=True)) @ direction < 0:
        direction = -direction  # points from the second word of the first pair to the first
    return direction / np.linalg.norm(direction)


def hard_debias(
    kv: KeyedVectors,
    definitional_pairs: Sequence[tuple[str, str]],
    equalize_pairs: Sequence[tuple[str, str]] = (),
    keep: Sequence[str] = (),
) -> KeyedVectors:
    """A debiased, unit-length copy of `kv`: neutralise all words but `keep` and the pair words, equalise pairs.

    Subword buckets are not carried over (their n-gram vectors were not debiased).
    """
    direction = bias_direction(kv, definitional_pairs).astype(np.float32)
    vectors = np.array(kv.unit_vectors, dtype=np.float32)
    exempt = set(keep) | {w for pair in definitional_pairs for w in pair} | {w for pair in equalize_pairs for w in pair}
    neutral = np.array([w not in exempt for w in kv.index_to_key])
    vectors[neutral] -= np.outer(vectors[neutral] @ direction, direction)
    vectors[neutral] = _normalize(vectors[neutral])
    for a, b in equalize_pairs:
        if a not in kv.key_to_index or b not in kv.key_to_index:
            continue
        ia, ib = kv.key_to_index[a], kv.key_to_index[b]
        middle = (vectors[ia] + vectors[ib]) / 2
        middle_bias = (middle @ direction) * direction
        orthogonal = middle - middle_bias
        height = np.sqrt(max(0.0, 1.0 - float(orthogonal @ orthogonal)))
        for index in (ia, ib):
            along = (vectors[index] @ direction) * direction - middle_bias
            vectors[index] = orthogonal + height * along / max(float(np.linalg.norm(along)), 1e-12)
    return KeyedVectors(kv.index_to_key, vectors, counts=kv.counts)
