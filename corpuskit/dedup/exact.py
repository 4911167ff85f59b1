"""Exact deduplication: documents whose normalised text hashes alike; the first occurrence is kept.

Map → reduce: each shard's map writes a 128-bit hash per document; a reduce task per hash range
finds, for each hash, its earliest document and pairs every later one with it; `decide` turns
the pairs into per-shard decisions (see `corpuskit.dedup.decisions`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.dedup.decisions import DedupStep, IdWriter, gids, write_pairs
from corpuskit.document import Document
from corpuskit.steps import GlobalWork, ReduceTask

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalise_for_exact(text: str, lowercase: bool = True, collapse_whitespace: bool = True, strip_punctuation: bool = False) -> str:
    """NFC text, optionally lower-cased, without punctuation, whitespace runs as one space.

    'Hello,  World!' -> 'hello, world!' (defaults) or 'hello world' (strip_punctuation).
    """
    text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = _PUNCT.sub("", text)
    if collapse_whitespace:
        text = " ".join(text.split())
    return text


def text_hash(text: str) -> bytes:
    """128-bit BLAKE2b of the text (collisions are negligible below ~10^18 documents)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class ExactDedup(DedupStep):
    """Drop documents whose normalised text equals an earlier document's.

    Drop reason: "exact_duplicate"; `metadata["duplicate_of"]` names the kept document.
    Memory: map, 16 bytes a document of its shard; a reduce task, ~40 bytes a document of its
    hash range (at most `part_rows()` documents on average: the corpus is split into that many
    ranges); decide, the shard's duplicates.
    """

    name = "exact_dedup"
    drop_label = "exact_duplicate"

    def __init__(self, lowercase: bool = True, collapse_whitespace: bool = True, strip_punctuation: bool = False) -> None:
        self.lowercase = lowercase
        self.collapse_whitespace = collapse_whitespace
        self.strip_punctuation = strip_punctuation

    def map(self, docs: Iterable[Document], out: Path) -> None:
        digests = bytearray()
        ids = IdWriter(out)
        try:
            for doc in docs:
                digests += text_hash(normalise_for_exact(doc.text, self.lowercase, self.collapse_whitespace, self.strip_punctuation))
                ids.add(doc.id)
        finally:
            ids.close()
        np.save(out / "hashes.npy", np.frombuffer(bytes(digests), dtype="<u8").reshape(-1, 2))

    def first_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        total = sum(_rows(work.map_dir(shard)) for shard in range(work.n_shards))
        parts = max(1, math.ceil(total / self.part_rows()))
        return [[ReduceTask(f"hash-{part:04d}", "hash_range", {"part": part, "parts": parts}) for part in range(parts)]]

    def reduce_own(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        """Within one hash range: every document after the first of its hash pairs with the first."""
        part, parts = task.params["part"], task.params["parts"]
        high, low, members = [], [], []
        for shard in range(work.n_shards):
            hashes = np.load(work.map_dir(shard) / "hashes.npy", mmap_mode="r")
            rows = np.flatnonzero(hashes[:, 0] % np.uint64(parts) == np.uint64(part))
            high.append(hashes[rows, 0])
            low.append(hashes[rows, 1])
            members.append(gids(shard, rows))
        high_all, low_all, gid_all = (np.concatenate(x) for x in (high, low, members))
        order = np.lexsort((gid_all, low_all, high_all))  # by hash, then corpus order
        high_all, low_all, gid_all = high_all[order], low_all[order], gid_all[order]
        first = np.ones(len(gid_all), dtype=bool)
        first[1:] = (high_all[1:] != high_all[:-1]) | (low_all[1:] != low_all[:-1])
        first_of_run = gid_all[np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))]
        write_pairs(out, gid_all[~first], first_of_run[~first])
        return {}


def _rows(map_dir: Path) -> int:
    return int(np.load(map_dir / "hashes.npy", mmap_mode="r").shape[0])
