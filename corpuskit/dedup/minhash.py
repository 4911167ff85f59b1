"""Near-duplicate removal: MinHash signatures, datasketch's MinHashLSH, a sketch check, components.

Each document's MinHash signature (`corpuskit.dedup.signatures`, vectorised) is queried against
datasketch's `MinHashLSH` and then inserted. Bands and rows are those datasketch derives for a
threshold 0.2 below `threshold` (`lsh_threshold`), so pairs just above the threshold are found
as candidates; each candidate pair is then checked with bottom-k sketches (the `sketch_size`
smallest distinct shingle hashes of each document: exact Jaccard for documents of at most that
many shingles, a low-variance estimate beyond) and joined in a union-find when Jaccard >=
`threshold`, so chains of near-duplicates end in one cluster. The earliest document of a
cluster is kept; the others are dropped with `duplicate_of` = its id.

Memory grows with the number of documents: per document its bottom-k sketch (4 * sketch_size
bytes), the LSH band keys (datasketch's tables, b entries), a union-find entry, and in the step
its id and a 16-byte key. Signatures live only for their batch; texts are not kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, Optional

import numpy as np

from corpuskit.dedup.decisions import DedupStep, DuplicateDecisions, document_key
from corpuskit.dedup.signatures import MinHasher, sketch_jaccard
from corpuskit.dedup.unionfind import UnionFind
from corpuskit.document import Document

log = logging.getLogger(__name__)

BATCH = 512


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) datasketch's MinHashLSH chooses for this threshold and num_perm."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def default_lsh_threshold(threshold: float, verify: bool) -> float:
    """The threshold LSH bands are derived from: 0.2 below `threshold` when candidates are checked.

    Lower finds more candidate pairs near the threshold (recall); the sketch check then removes
    the false ones, so precision holds.
    """
    return max(threshold - 0.2, 0.05) if verify else threshold


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


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """[1, 2, 3, 4, 5], 2 -> [1, 2], [3, 4], [5]."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class MinHashDedup(DedupStep):
    """Drop near-duplicates (Jaccard of word n-gram shingle sets >= threshold), one kept per cluster.

    Drop reason: "near_duplicate"; `metadata["duplicate_of"]` names the kept document (the
    earliest of its cluster in fit order). Memory: see the module docstring.
    """

    name = "minhash_dedup"
    drop_label = "near_duplicate"

    def __init__(
        self,
        threshold: float = 0.8,
        num_perm: int = 128,
        ngram: int = 5,
        seed: int = 1,
        lowercase: bool = False,
        hashing: Literal["fast", "sha1"] = "fast",
        verify: bool = True,
        lsh_threshold: Optional[float] = None,
        sketch_size: int = 512,
    ) -> None:
        self.threshold = threshold
        self.lsh_threshold = lsh_threshold
        self.sketch_size = sketch_size
        self.num_perm = num_perm
        self.ngram = ngram
        self.seed = seed
        self.lowercase = lowercase
        self.hashing = hashing
        self.verify = verify
        NearDuplicateIndex(**self.params())  # validates the parameters now, not after reading the corpus
        self.decisions = DuplicateDecisions()

    def params(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "ngram": self.ngram,
            "seed": self.seed,
            "lowercase": self.lowercase,
            "hashing": self.hashing,
            "verify": self.verify,
            "lsh_threshold": self.lsh_threshold,
            "sketch_size": self.sketch_size,
        }

    def fit(self, docs: Iterable[Document]) -> None:
        index = NearDuplicateIndex(**self.params())
        ids: list[str] = []
        keys: list[str] = []
        for batch in batched(docs, BATCH):
            ids.extend(doc.id for doc in batch)
            keys.extend(document_key(doc.id, doc.text) for doc in batch)
            index.add([doc.text for doc in batch])
        decisions = DuplicateDecisions()
        representatives = index.representatives()
        for ordinal in np.flatnonzero(representatives != np.arange(len(representatives))):
            rep = int(representatives[ordinal])
            decisions.add_duplicate(keys[ordinal], ids[rep], keys[rep])
        log.info(
            "minhash_dedup: %d documents, %d near-duplicates, %d LSH candidates (%d rejected by signature check), bands=%d rows=%d",
            len(ids), int((representatives != np.arange(len(representatives))).sum()), index.candidates, index.rejected, index.bands, index.rows,
        )
        self.decisions = decisions
