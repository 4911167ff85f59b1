"""The sequential reference for near-duplicate clustering: datasketch's MinHashLSH queried and
filled document by document, candidates checked on bottom-k sketches, a union-find of the links.

`MinHashDedup` (map → reduce, `corpuskit.dedup.minhash`) must give exactly these clusters; tests
and `benchmarks/bench_dedup.py` compare the two. Memory: every document's sketch, LSH entries
and union-find slot, in one process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from corpuskit.dedup.minhash import default_lsh_threshold, lsh_params
from corpuskit.dedup.signatures import MinHasher, sketch_jaccard
from corpuskit.dedup.unionfind import UnionFind


class NearDuplicateIndex:
    """Clusters texts added in batches; `representatives()` gives each text's kept ordinal.

    A text with no words gets no signature and stays alone (exact dedup handles empty texts).
    """

    def __init__(
        self,
        threshold: float = 0.8,
        num_perm: int = 128,
        ngram: int = 5,
        seed: int = 1,
        lowercase: bool = False,
        hashing: Literal["fast", "sha1"] = "fast",
        verify: bool = True,
        lsh_threshold: float | None = None,
        sketch_size: int = 512,
    ) -> None:
        from datasketch import MinHashLSH

        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        if sketch_size < 1:
            raise ValueError(f"sketch_size must be at least 1, not {sketch_size}")
        self.threshold = threshold
        self.verify = verify
        self.hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed, lowercase=lowercase, hashing=hashing)
        self.bands, self.rows = lsh_params(default_lsh_threshold(threshold, verify) if lsh_threshold is None else lsh_threshold, num_perm)
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=(self.bands, self.rows))
        self.components = UnionFind()
        self.sketch_size = sketch_size
        self._sketches = np.empty((1024, sketch_size), dtype=np.uint32)
        self._sketch_lengths = np.zeros(1024, dtype=np.int64)
        self.candidates = 0
        self.rejected = 0

    def add(self, texts: Sequence[str]) -> None:
        """Add a batch of texts, in order, linking each to the earlier texts it near-duplicates."""
        from datasketch import LeanMinHash

        signatures, shingle_counts = self.hasher.signatures(texts)
        start = len(self.components)
        if self.verify:
            self._reserve(start + len(texts))
            sketches, lengths = self.hasher.sketches(texts, self.sketch_size)
            self._sketches[start : start + len(texts)] = sketches
            self._sketch_lengths[start : start + len(texts)] = lengths
        for row, count in zip(signatures, shingle_counts):
            ordinal = self.components.add()
            if count == 0:
                continue
            minhash = LeanMinHash(seed=self.hasher.seed, hashvalues=row, scheme="affine32")
            for other in self.lsh.query(minhash):
                self.candidates += 1
                if self.verify and self.estimated_jaccard(ordinal, other) < self.threshold:
                    self.rejected += 1
                    continue
                self.components.union(ordinal, other)
            self.lsh.insert(ordinal, minhash, check_duplication=False)

    def estimated_jaccard(self, i: int, j: int) -> float:
        """Jaccard of texts i and j from their bottom-k sketches (exact for texts of <= k shingles)."""
        a = self._sketches[i, : self._sketch_lengths[i]]
        b = self._sketches[j, : self._sketch_lengths[j]]
        return sketch_jaccard(a, b, self.sketch_size)

    def representatives(self) -> np.ndarray:
        """Per text, the ordinal of the earliest text of its cluster (itself when kept)."""
        return np.array([self.components.find(i) for i in range(len(self.components))], dtype=np.int64)

    def _reserve(self, size: int) -> None:
        if size > self._sketches.shape[0]:
            capacity = max(size, 2 * self._sketches.shape[0])
            sketches = np.empty((capacity, self.sketch_size), dtype=np.uint32)
            sketches[: len(self.components)] = self._sketches[: len(self.components)]
            lengths = np.zeros(capacity, dtype=np.int64)
            lengths[: len(self.components)] = self._sketch_lengths[: len(self.components)]
            self._sketches, self._sketch_lengths = sketches, lengths
