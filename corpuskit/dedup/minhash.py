"""Near-duplicate removal: MinHash signatures, datasketch's MinHashLSH, connected components.

Each document's signature (`corpuskit.dedup.signatures`, vectorised) is queried against
datasketch's `MinHashLSH` (bands and rows derived by datasketch from `threshold` and
`num_perm`) and then inserted. Bands and rows are derived for a threshold 0.1 below `threshold`
(more candidates near the threshold); each candidate pair is then checked on the signatures
(estimated Jaccard >= `threshold`, which removes most false candidates) and joined in a union-find, so
that chains of near-duplicates end in one cluster. The earliest document of a cluster is kept;
the others are dropped with `duplicate_of` = its id.

Memory grows with the number of documents: the signatures (4 * num_perm bytes each, kept for
the candidate check), the LSH band tables (b keys each), and a union-find entry, id and 16-byte
key each. Texts are not kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np

from corpuskit.dedup.decisions import DuplicateDecisions, document_key
from corpuskit.dedup.signatures import MinHasher
from corpuskit.dedup.unionfind import UnionFind
from corpuskit.document import Document, Drop
from corpuskit.steps import GlobalStep

log = logging.getLogger(__name__)

BATCH = 512


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) datasketch's MinHashLSH chooses for this threshold and num_perm."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def default_lsh_threshold(threshold: float, verify: bool) -> float:
    """The threshold LSH bands are derived from: 0.1 below `threshold` when candidates are checked.

    Lower finds more candidate pairs near the threshold (recall); the signature check then
    removes the false ones, so precision holds.
    """
    return max(threshold - 0.1, 0.05) if verify else threshold


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
    ) -> None:
        from datasketch import MinHashLSH

        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        self.threshold = threshold
        self.verify = verify
        self.hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed, lowercase=lowercase, hashing=hashing)
        self.bands, self.rows = lsh_params(default_lsh_threshold(threshold, verify) if lsh_threshold is None else lsh_threshold, num_perm)
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=(self.bands, self.rows))
        self.components = UnionFind()
        self._signatures = np.empty((1024, num_perm), dtype=np.uint32)
        self.candidates = 0
        self.rejected = 0

    def add(self, texts: Sequence[str]) -> None:
        """Add a batch of texts, in order, linking each to the earlier texts it near-duplicates."""
        from datasketch import LeanMinHash

        signatures, shingle_counts = self.hasher.signatures(texts)
        start = len(self.components)
        self._reserve(start + len(texts))
        self._signatures[start : start + len(texts)] = signatures
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
        """Share of equal signature entries of texts i and j."""
        return float(np.count_nonzero(self._signatures[i] == self._signatures[j])) / self._signatures.shape[1]

    def representatives(self) -> np.ndarray:
        """Per text, the ordinal of the earliest text of its cluster (itself when kept)."""
        return np.array([self.components.find(i) for i in range(len(self.components))], dtype=np.int64)

    def _reserve(self, size: int) -> None:
        if size > self._signatures.shape[0]:
            grown = np.empty((max(size, 2 * self._signatures.shape[0]), self._signatures.shape[1]), dtype=np.uint32)
            grown[: len(self.components)] = self._signatures[: len(self.components)]
            self._signatures = grown


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


class MinHashDedup(GlobalStep):
    """Drop near-duplicates (Jaccard of word n-gram shingle sets >= threshold), one kept per cluster.

    Drop reason: "near_duplicate"; `metadata["duplicate_of"]` names the kept document (the
    earliest of its cluster in fit order). Memory: see the module docstring.
    """

    name = "minhash_dedup"

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
    ) -> None:
        self.threshold = threshold
        self.lsh_threshold = lsh_threshold
        self.num_perm = num_perm
        self.ngram = ngram
        self.seed = seed
        self.lowercase = lowercase
        self.hashing = hashing
        self.verify = verify
        MinHasher(num_perm=num_perm, ngram=ngram, seed=seed, lowercase=lowercase, hashing=hashing)  # validates
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
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

    def save_state(self, directory: Path) -> None:
        self.decisions.save(Path(directory) / f"{self.name}.json", self.name, self.params())

    def load_state(self, directory: Path) -> None:
        self.decisions = DuplicateDecisions.load(Path(directory) / f"{self.name}.json", self.name, self.params())

    def process(self, doc: Document) -> Document | Drop:
        duplicate_of = self.decisions.duplicate_of(doc)
        if duplicate_of is None:
            return doc
        doc.metadata["duplicate_of"] = duplicate_of
        return Drop("near_duplicate")
