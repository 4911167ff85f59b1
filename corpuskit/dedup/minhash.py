"""Near-duplicate removal as map → reduce: MinHash bands, verified bucket links, components.

- **map** (per shard): each document's MinHash signature (`corpuskit.dedup.signatures`,
  vectorised), one 64-bit key per LSH band (a hash of the band's rows: documents share a bucket
  when their band rows are equal; two different bands collide with probability 2^-64), and,
  when candidates are verified, its bottom-k sketch (the `sketch_size` smallest distinct
  shingle hashes). Bands and rows are those datasketch's MinHashLSH derives for a threshold
  0.2 below `threshold` (`lsh_threshold`), so pairs just above the threshold become candidates.
- **reduce, round 1** (a task per band and key range): sort the band's keys; in each bucket
  link documents whose sketches give Jaccard >= `threshold` (`corpuskit.dedup.buckets`); write
  the links.
- **round 2** (one task): connected components of all links (scipy); every document of a
  component pairs with its earliest document.
- **round 3** (a task per shard): the shard's decisions (`corpuskit.dedup.decisions`).

The clusters equal those of the sequential reference (`corpuskit.dedup.reference`), so the
kept documents and `duplicate_of` do too. A document without words has no signature and stays.

Memory: map, one batch of 512 texts (the shard's files are appended to as it goes). Round 1,
per task: 16 bytes for each document of its key range (`part_rows()` on average, ~3x that while
sorting) plus, for documents that share a bucket, their sketch (4 * sketch_size bytes) and
union-find slots; the other sketches stay on disk, memory-mapped. Round 2: ~40 bytes a link
(links <= bands x documents with a near-duplicate). Round 3: the shard's duplicates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np

from corpuskit.dedup.decisions import DedupStep, IdWriter, batched, gids, position_of, shard_of, write_pairs
from corpuskit.dedup.signatures import MinHasher
from corpuskit.document import Document
from corpuskit.steps import GlobalWork, ReduceTask

BATCH = 512
_BAND_SEED = np.uint64(0x9E3779B97F4A7C15)
_BAND_MULT = np.uint64(0xBF58476D1CE4E5B9)


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


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: a 64-bit hash of each band's `rows` signature values.

    Equal band rows give equal keys; the hash folds each value in and mixes (wrapping uint64).
    """
    values = signatures[:, : bands * rows].astype(np.uint64).reshape(len(signatures), bands, rows)
    keys = np.full((len(signatures), bands), _BAND_SEED, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for row in range(rows):
            keys = (keys ^ values[:, :, row]) * _BAND_MULT
            keys ^= keys >> np.uint64(29)
        keys ^= keys >> np.uint64(33)
        keys *= np.uint64(0xFF51AFD7ED558CCD)
        keys ^= keys >> np.uint64(33)
    return keys


class MinHashDedup(DedupStep):
    """Drop near-duplicates (Jaccard of word n-gram shingle sets >= threshold), one kept per cluster.

    Drop reason: "near_duplicate"; `metadata["duplicate_of"]` names the kept document (the
    earliest of its cluster in corpus order). Memory: see the module docstring.
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
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        if sketch_size < 1:
            raise ValueError(f"sketch_size must be at least 1, not {sketch_size}")
        self.threshold = threshold
        self.lsh_threshold = lsh_threshold
        self.sketch_size = sketch_size
        self.verify = verify
        self.hasher = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed, lowercase=lowercase, hashing=hashing)
        self.bands, self.rows = lsh_params(default_lsh_threshold(threshold, verify) if lsh_threshold is None else lsh_threshold, num_perm)

    # -- map ---------------------------------------------------------------------------------

    def map(self, docs: Iterable[Document], out: Path) -> None:
        """Per shard: ids, band keys (one file per band) of documents with words, sketches."""
        ids = IdWriter(out)
        band_files = [open(out / f"band-{band:03d}.u64", "wb") for band in range(self.bands)]
        positions = open(out / "positions.i64", "wb")  # which documents have band keys
        sketches = open(out / "sketches.u32", "wb")
        lengths = open(out / "lengths.i64", "wb")
        keyed = 0
        try:
            for batch in batched(docs, BATCH):
                texts = [doc.text for doc in batch]
                signatures, shingles = self.hasher.signatures(texts)
                with_words = np.flatnonzero(shingles > 0)
                keys = band_keys(signatures[with_words], self.bands, self.rows)
                for band, handle in enumerate(band_files):
                    handle.write(np.ascontiguousarray(keys[:, band]).tobytes())
                positions.write((with_words + ids.count).astype(np.int64).tobytes())
                keyed += len(with_words)
                if self.verify:
                    values, used = self.hasher.sketches(texts, self.sketch_size)
                    sketches.write(values.tobytes())
                    lengths.write(used.astype(np.int64).tobytes())
                for doc in batch:
                    ids.add(doc.id)
        finally:
            ids.close()
            for handle in (*band_files, positions, sketches, lengths):
                handle.close()
        (out / "meta.json").write_text(json.dumps({"documents": ids.count, "keyed": keyed, "bands": self.bands, "rows": self.rows}))

    # -- reduce ------------------------------------------------------------------------------

    def first_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        keyed = sum(_meta(work.map_dir(shard))["keyed"] for shard in range(work.n_shards))
        parts = max(1, math.ceil(keyed / self.part_rows()))
        link_round = [
            ReduceTask(f"band-{band:03d}-{part:04d}", "link", {"band": band, "part": part, "parts": parts})
            for band in range(self.bands)
            for part in range(parts)
        ]
        return [link_round, [ReduceTask("components", "components", {"sources": [t.name for t in link_round]})]]

    def reduce_own(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        if task.kind == "link":
            return self._link(work, task.params["band"], task.params["part"], task.params["parts"], out)
        if task.kind == "components":
            return _components(work, task.params["sources"], out)
        raise ValueError(f"{self.name}: unknown reduce task kind {task.kind!r}")

    def _link(self, work: GlobalWork, band: int, part: int, parts: int, out: Path) -> dict[str, int]:
        """Buckets of one band (one key range of it): verified links between their documents."""
        from corpuskit.dedup.buckets import link_buckets

        keys, members = [], []
        for shard in range(work.n_shards):
            folder = work.map_dir(shard)
            band_keys_ = np.fromfile(folder / f"band-{band:03d}.u64", dtype=np.uint64)
            chosen = np.flatnonzero(band_keys_ % np.uint64(parts) == np.uint64(part)) if parts > 1 else slice(None)
            keys.append(band_keys_[chosen])
            members.append(gids(shard, np.fromfile(folder / "positions.i64", dtype=np.int64)[chosen]))
        key_all, gid_all = np.concatenate(keys), np.concatenate(members)
        order = np.lexsort((gid_all, key_all))  # buckets, each in corpus order
        key_all, gid_all = key_all[order], gid_all[order]
        starts = np.flatnonzero(np.r_[True, key_all[1:] != key_all[:-1]])
        sizes = np.diff(np.r_[starts, len(key_all)])
        shared = np.repeat(sizes >= 2, sizes)  # documents in a bucket of two or more
        bucket_gids = gid_all[shared]
        offsets = np.r_[0, np.cumsum(sizes[sizes >= 2])].astype(np.int64)
        documents, members_local = np.unique(bucket_gids, return_inverse=True)
        sketches, lengths = self._sketches_of(work, documents)
        parent = np.arange(len(documents), dtype=np.int64)
        edges = np.empty((max(len(documents), 1), 2), dtype=np.int64)
        links, checks = link_buckets(
            offsets, members_local.astype(np.int64), sketches, lengths, self.sketch_size, self.threshold, self.verify, parent, edges
        )
        np.save(out / "links.npy", documents[edges[:links]])
        return {"bucket_members": int(len(bucket_gids)), "sketch_checks": int(checks), "links": int(links)}

    def _sketches_of(self, work: GlobalWork, documents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sketches of some documents (sorted gids), read from their shards' memory-mapped files."""
        k = self.sketch_size if self.verify else 1
        sketches = np.zeros((len(documents), k), dtype=np.uint32)
        lengths = np.zeros(len(documents), dtype=np.int64)
        if not self.verify or len(documents) == 0:
            return sketches, lengths
        shards, positions = shard_of(documents), position_of(documents)
        for shard in np.unique(shards):
            folder = work.map_dir(int(shard))
            n = _meta(folder)["documents"]
            rows = np.flatnonzero(shards == shard)
            stored = np.memmap(folder / "sketches.u32", dtype=np.uint32, mode="r", shape=(n, self.sketch_size))
            sketches[rows] = stored[positions[rows]]
            lengths[rows] = np.fromfile(folder / "lengths.i64", dtype=np.int64)[positions[rows]]
            del stored
        return sketches, lengths


def _components(work: GlobalWork, sources: list[str], out: Path) -> dict[str, int]:
    """Connected components of every link; each document pairs with its component's earliest."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    parts = [np.load(work.task_dir(name) / "links.npy") for name in sources]
    links = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
    documents, local = np.unique(links, return_inverse=True)
    local = local.reshape(-1, 2)
    n = len(documents)
    graph = coo_matrix((np.ones(len(local), dtype=np.int8), (local[:, 0], local[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    earliest = np.full(labels.max() + 1 if n else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, labels, documents)  # documents are sorted, but labels are arbitrary
    kept = earliest[labels]
    duplicate = documents != kept
    write_pairs(out, documents[duplicate], kept[duplicate])
    return {"near_duplicates": int(duplicate.sum())}


def _meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "meta.json").read_text())
