"""Decontamination: documents sharing a long n-gram with an evaluation set are dropped or redacted.

N-grams are `ngram` (13 by default, as GPT-3's and Dolma's decontamination) consecutive
lower-cased whitespace words. Each word is hashed once (BLAKE2b, 64 bits) and an n-gram's hash is
a mix of its words' hashes, computed for a whole document in `ngram` vector operations; a false
match needs a 64-bit collision (about one in 10^12 checked n-grams against 10^7 eval n-grams).
An evaluation text shorter than `ngram` words gives no n-gram (counted as "eval_too_short").

Map → reduce: the maps only count their shard's documents; one reduce task reads the evaluation
files (with corpuskit's readers, chosen by file name unless `reader` is given) and writes their
n-gram hashes, sorted, with the index of the file each came from; every worker loads that table
once and checks each document's n-grams against it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from corpuskit import registry
from corpuskit.document import CorpusError, Document, Drop, Rejected
from corpuskit.files import write_json_atomic
from corpuskit.readers.base import build_reader, reader_for
from corpuskit.steps import GlobalStep, GlobalWork, ReduceTask

_WORD = re.compile(r"\S+")
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
WORD_CACHE = 1 << 19  # words whose hashes a step keeps between documents (~60 MB at most)


def word_hashes(words: list[str], cache: dict[str, int] | None = None) -> np.ndarray:
    """64-bit BLAKE2b of each word, each distinct word hashed once; `cache` (word -> hash) is
    read and filled, so a step hashes a frequent word once across documents."""
    table = cache if cache is not None else {}
    for word in set(words).difference(table):
        table[word] = int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
    return np.fromiter(map(table.__getitem__, words), dtype=np.uint64, count=len(words))


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every output bit depends on every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def ngram_hashes(words: list[str], n: int, cache: dict[str, int] | None = None) -> np.ndarray:
    """Hash of every run of `n` consecutive words (len(words) - n + 1 of them; none if fewer).

    Order matters: h = mix(((w0 * K + w1) * K + w2) ...) over the words' hashes. O(n * words).
    """
    if len(words) < n:
        return np.zeros(0, dtype=np.uint64)
    hashes = word_hashes(words, cache)
    count = len(words) - n + 1
    with np.errstate(over="ignore"):
        acc = hashes[:count].copy()
        for offset in range(1, n):
            acc = acc * _MULTIPLIER + hashes[offset : offset + count]
        return _mix(acc)


def words_of(text: str) -> list[str]:
    """Lower-cased whitespace words of `text`."""
    return text.lower().split()


def word_offsets(text: str) -> list[tuple[int, int]]:
    """[start, end) of each whitespace word of `text` (the same words as `words_of`)."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


class Decontaminate(GlobalStep):
    """Drop (or redact) documents sharing an `ngram`-word n-gram with the named evaluation files.

    `eval_files`: paths (absolute, or relative to the working directory), each named in the
    summary by its file name, which must therefore differ. `mode: drop` drops a matching
    document with the eval file's name as the reason (the file with most shared n-grams);
    `mode: redact` replaces every run of words covered by a shared n-gram with `placeholder`
    (a document left without text is dropped as "decontaminate_empty"). Counters per eval
    file: "documents_matched: <name>", "ngrams_matched: <name>"; the reduce adds
    "eval_documents: <name>", "eval_ngrams: <name>" (distinct) and "eval_too_short: <name>".
    Memory: the reduce and every worker hold 10 bytes per distinct eval n-gram (a 64-bit hash
    and a 16-bit file index), and a worker up to `WORD_CACHE` (2^19) word hashes (~60 MB);
    per document, ~24 bytes a word plus its word list; map, nothing.
    """

    name = "decontaminate"

    def __init__(
        self,
        eval_files: list[str],
        ngram: int = 13,
        mode: Literal["drop", "redact"] = "drop",
        placeholder: str = "",
        reader: str | None = None,
        reader_options: dict[str, Any] | None = None,
    ) -> None:
        if not eval_files:
            raise ValueError("decontaminate: eval_files must name at least one evaluation file")
        names = [Path(p).name for p in eval_files]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"decontaminate: evaluation files are named by file name, and {', '.join(repeated)} appears twice; rename one")
        if len(eval_files) >= 1 << 16:
            raise ValueError("decontaminate: at most 65535 evaluation files")
        if ngram < 1:
            raise ValueError(f"decontaminate: ngram must be >= 1, not {ngram}")
        if mode not in ("drop", "redact"):
            raise ValueError(f"decontaminate: mode must be 'drop' or 'redact', not {mode!r}")
        self.eval_files = list(eval_files)
        self.names = names
        self.ngram = ngram
        self.mode = mode
        self.placeholder = placeholder
        self.reader = reader
        self.reader_options = dict(reader_options or {})
        self.table: np.ndarray | None = None
        self.files: np.ndarray | None = None
        self._word_cache: dict[str, int] = {}

    def map(self, docs: Iterable[Document], out: Path) -> None:
        write_json_atomic(out / "documents.json", {"documents": sum(1 for _ in docs)})

    def reduce_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        return [[ReduceTask("eval-ngrams", "eval_ngrams")]]

    def _eval_texts(self, path: str) -> Iterable[str]:
        if not Path(path).is_file():
            raise CorpusError(f"decontaminate: evaluation file {path} does not exist")
        if self.reader is not None:
            reader = build_reader(registry.load("readers", self.reader), self.reader_options)
        else:
            reader = reader_for(path, self.reader_options)
        for item in reader.read(path):
            if isinstance(item, Rejected):
                raise CorpusError(f"decontaminate: evaluation file unreadable: {item.message()}")
            yield item.text

    def reduce(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        """Every eval file's distinct n-gram hashes, sorted by hash (then file) into one table."""
        hashes, files, counters = [], [], {}
        for index, (path, name) in enumerate(zip(self.eval_files, self.names)):
            per_file, documents, short = [], 0, 0
            for text in self._eval_texts(path):
                documents += 1
                grams = ngram_hashes(words_of(text), self.ngram)
                short += len(grams) == 0
                per_file.append(grams)
            unique = np.unique(np.concatenate(per_file)) if per_file else np.zeros(0, dtype=np.uint64)
            hashes.append(unique)
            files.append(np.full(len(unique), index, dtype=np.uint16))
            counters |= {f"eval_documents: {name}": documents, f"eval_ngrams: {name}": len(unique), f"eval_too_short: {name}": short}
        table, owner = np.concatenate(hashes), np.concatenate(files)
        order = np.lexsort((owner, table))
        np.savez(out / "ngrams.npz", hashes=table[order], files=owner[order])
        return counters

    def load_shard_state(self, work: GlobalWork, shard: int) -> None:
        path = work.task_dir("eval-ngrams") / "ngrams.npz"
        try:
            with np.load(path, allow_pickle=False) as data:
                self.table, self.files = data["hashes"], data["files"]
        except FileNotFoundError:
            raise CorpusError(f"{path}: no evaluation n-grams; run the step's map and reduce first") from None

    def matches(self, text: str) -> tuple[np.ndarray, dict[int, int]]:
        """(word indices where a shared n-gram starts, {eval file index: shared n-grams})."""
        if self.table is None or self.files is None:
            raise CorpusError("decontaminate: no evaluation n-grams loaded; run fit() or the pipeline's map and reduce first")
        if len(self._word_cache) > WORD_CACHE:
            self._word_cache.clear()
        grams = ngram_hashes(words_of(text), self.ngram, self._word_cache)
        per_file: dict[int, int] = {}
        if not len(self.table) or not len(grams):
            return np.zeros(0, dtype=np.int64), per_file
        left = np.searchsorted(self.table, grams, side="left")
        hit = np.flatnonzero(self.table[np.minimum(left, len(self.table) - 1)] == grams)
        for start in hit:
            end = int(np.searchsorted(self.table, grams[start], side="right"))
            for owner in self.files[left[start] : end]:
                per_file[int(owner)] = per_file.get(int(owner), 0) + 1
        return hit, per_file

    def process(self, doc: Document) -> Document | Drop:
        hit, per_file = self.matches(doc.text)
        if not per_file:
            return doc
        for index, n in per_file.items():
            self.count(f"documents_matched: {self.names[index]}")
            self.count(f"ngrams_matched: {self.names[index]}", n)
        if self.mode == "drop":
            worst = max(per_file, key=lambda i: (per_file[i], -i))
            return Drop(self.names[worst])
        offsets = word_offsets(doc.text)
        covered = np.zeros(len(offsets) + 1, dtype=np.int64)
        np.add.at(covered, hit, 1)
        np.add.at(covered, hit + self.ngram, -1)
        inside = np.cumsum(covered[:-1]) > 0
        pieces, cursor, word = [], 0, 0
        while word < len(offsets):
            if not inside[word]:
                word += 1
                continue
            first = word
            while word < len(offsets) and inside[word]:
                word += 1
            pieces += [doc.text[cursor : offsets[first][0]], self.placeholder]
            cursor = offsets[word - 1][1]
        pieces.append(doc.text[cursor:])
        text = "".join(pieces)
        if not text.strip():
            return Drop("decontaminate_empty")
        return Document(doc.id, text, doc.metadata)
