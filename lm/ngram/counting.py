"""Count n-grams over a streamed corpus the way KenLM's lmplz does, within a memory budget.

The unit counted is the *maximal n-gram* of each token: the `order` words ending there, cut at
`<s>` (lmplz pads with `<s>` and drops n-grams with `<s>` past their first word; same thing).
Every shorter n-gram's count follows from these (it ends exactly one of them), so a count table
is all an estimator needs, and tables from different machines merge by adding counts.

Memory: the hash table (`corpuskit.spill.SpillCounter`) grows with distinct maximal n-grams
(about 4*order+40 bytes each); past `memory_mb` it is sorted and spilled as a run to disk, and
the runs are merged k-way at the end, streaming from a memory-mapped file. The merged table (and
the model built from it) is in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.lm.ngram.vocab import SPECIALS, Vocabulary, pack_words, unpack_words
from corpuskit.spill import SpillCounter, aggregate, sort_rows
from corpuskit.trainer import Counts

log = logging.getLogger(__name__)

COUNTS_FORMAT = "corpuskit.ngram-counts"


def canonical_words(words: Sequence[str], frequency: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(words in canonical order, remap: old id -> new id). O(V log V).

    The specials first, then by descending `frequency`, ties by the word: an order that does not
    depend on how the corpus was split, and keeps frequent words' ids small and close together.
    """
    by_word = np.asarray(sorted(range(len(SPECIALS), len(words)), key=words.__getitem__), dtype=np.int64)
    rest = by_word[np.argsort(-np.asarray(frequency)[by_word], kind="stable")]
    remap = np.empty(len(words), dtype=np.int32)
    remap[: len(SPECIALS)] = np.arange(len(SPECIALS), dtype=np.int32)
    remap[rest] = np.arange(len(SPECIALS), len(words), dtype=np.int32)
    return list(words[: len(SPECIALS)]) + [words[i] for i in rest.tolist()], remap


def remap_rows(rows: np.ndarray, remap: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Rows with every word id sent through `remap` (padding -1 stays). O(rows).

    `in_place` rewrites `rows` itself, a block at a time, so no full-size temporary is made.
    """
    shifted = np.concatenate([np.array([-1], dtype=np.int32), remap.astype(np.int32)])
    if not in_place:
        return shifted[rows + 1]
    for start in range(0, rows.shape[0], 1 << 18):
        block = rows[start : start + (1 << 18)]
        block[...] = shifted[block + 1]
    return rows


class NGramCounts(Counts):
    """Counts of maximal n-grams: `rows[i]` (right-aligned word ids, -1 padded) seen `counts[i]` times.

    `words[i]` is the word of id i: `<unk>`, `<s>`, `</s>`, then every other word by descending
    count, ties by the word; rows are unique, and sorted (lexicographically) before counts are saved, merged or
    compared: the estimator needs no order, so `count_ngrams` leaves that sort to them. That
    order is canonical, so counts of shards merge in any order into the counts of the whole
    corpus, to the byte. `config` is the counting config ({"lowercase": ..., "order": ...});
    counts of different configs never merge.
    """

    format: ClassVar[str] = COUNTS_FORMAT

    def __init__(
        self, order: int, words: Sequence[str], rows: np.ndarray, counts: np.ndarray, tokens: int = 0, sentences: int = 0,
        config: dict[str, Any] | None = None, _unique_rows: bool = False,
    ) -> None:
        """`_unique_rows` (for `count_ngrams`): the rows are unique and handed over (renumbered in place); leave them unsorted."""
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        config = dict(config) if config is not None else {"lowercase": False, "order": order}
        if config.get("order") != order:
            raise ValueError(f"counts of order {order} under a config of order {config.get('order')}")
        super().__init__(config)
        if tuple(words[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"the vocabulary must start with {', '.join(SPECIALS)}")
        rows = np.asarray(rows, dtype=np.int32).reshape(-1, order)
        counts = np.asarray(counts, dtype=np.int64)
        if rows.shape[0] != counts.shape[0]:
            raise ValueError(f"{rows.shape[0]} rows but {counts.shape[0]} counts")
        if not _unique_rows and rows.size and (rows.min() < -1 or rows.max() >= len(words)):
            raise ValueError(f"rows hold word ids outside [-1, {len(words)})")
        frequency = np.bincount(rows[:, -1], weights=counts, minlength=len(words)) if rows.size else np.zeros(len(words))
        words, remap = canonical_words(words, frequency)
        if not np.array_equal(remap, np.arange(len(words))):
            rows = remap_rows(rows, remap, in_place=_unique_rows)  # count_ngrams hands over rows it owns
        self.order = order
        self.words = words
        self.rows, self.counts = (np.ascontiguousarray(rows), counts) if _unique_rows else aggregate(np.ascontiguousarray(rows), counts)
        self._rows_sorted = not _unique_rows
        self.tokens = int(tokens)  # words counted (without <s>/</s>)
        self.sentences = int(sentences)

    def _sort_rows(self) -> None:
        """Put the rows in canonical (lexicographic) order, once."""
        if not self._rows_sorted:
            self.rows, self.counts = sort_rows(self.rows, self.counts)
            self._rows_sorted = True

    def __repr__(self) -> str:
        return f"NGramCounts(order {self.order}, {len(self.words)} words, {len(self.rows)} rows, {self.sentences} sentences, config={self.config})"

    def _to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        self._sort_rows()
        word_bytes, word_offsets = pack_words(self.words)
        arrays = {"rows": self.rows, "counts": self.counts, "word_bytes": word_bytes, "word_offsets": word_offsets}
        return arrays, {"order": self.order, "tokens": self.tokens, "sentences": self.sentences}

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], config: dict[str, Any]) -> "NGramCounts":
        words = unpack_words(arrays["word_bytes"], arrays["word_offsets"])
        return cls(meta["order"], words, arrays["rows"], arrays["counts"], meta["tokens"], meta["sentences"], config)

    def unigram_counts(self) -> np.ndarray:
        """How often each word id occurs (as the last word of a maximal n-gram: every occurrence)."""
        return np.bincount(self.rows[:, -1], weights=self.counts, minlength=len(self.words)).astype(np.int64)

    def _merged(self, other: Counts) -> "NGramCounts":
        """Counts of both corpora (e.g. two shards counted on different machines)."""
        assert isinstance(other, NGramCounts)
        vocab = Vocabulary(self.words[3:])
        remap = np.asarray([vocab.add(w) for w in other.words], dtype=np.int32)
        rows = np.concatenate([self.rows, remap_rows(other.rows, remap)])
        return NGramCounts(self.order, vocab.words, rows, np.concatenate([self.counts, other.counts]),
                           self.tokens + other.tokens, self.sentences + other.sentences, self.config)

    def restrict_vocabulary(self, min_count: int = 1, vocabulary: Sequence[str] | None = None) -> "NGramCounts":
        """Map words outside `vocabulary` (or seen fewer than `min_count` times) to `<unk>`.

        Memory: O(rows). The result's ids are renumbered so that kept words keep their order.
        """
        freq = self.unigram_counts()
        if vocabulary is not None:
            allowed = set(vocabulary)
            keep = np.asarray([w in allowed for w in self.words], dtype=bool)
        else:
            keep = freq >= min_count
        keep[: len(SPECIALS)] = True
        if keep.all():
            return self
        remap = np.cumsum(keep, dtype=np.int64) - 1
        remap[~keep] = 0
        words = [w for w, k in zip(self.words, keep) if k]
        log.info("vocabulary restricted to %d of %d words", len(words), len(self.words))
        return NGramCounts(self.order, words, remap_rows(self.rows, remap.astype(np.int32)), self.counts, self.tokens, self.sentences, self.config)


def _chunks(texts: Iterable[str], chunk_lines: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) >= chunk_lines:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_ngrams(
    texts: Iterable[str],
    order: int,
    memory_mb: float = 2048,
    spill_dir: str | Path | None = None,
    chunk_lines: int = 20_000,
    progress: bool = False,
    lowercase: bool = False,
) -> NGramCounts:
    """Count the maximal n-grams of `texts` (one sentence per text, words split on ASCII spaces).

    The corpus is read once. Memory: O(distinct maximal n-grams) up to `memory_mb`, then sorted
    runs spill to `spill_dir` (a temporary folder by default) and are merged at the end.
    `<s>`, `</s>` and `<unk>` inside the text are skipped like whitespace, as lmplz does.
    `lowercase` lower-cases each text first (and is part of the counts' config).
    """
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    from corpuskit.lm.ngram.kernels import count_rows

    vocab = Vocabulary()
    counter = SpillCounter(order, int(memory_mb * 2**20), spill_dir)
    tokens = sentences = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit=" lines", desc="counting")
    try:
        for chunk in _chunks((t.lower() for t in texts) if lowercase else texts, chunk_lines):
            id_array, length_array = vocab.encode_growing(chunk)
            # at most one new row per token and one per sentence end
            counter.add(count_rows, int(length_array.sum()) + len(length_array), id_array, length_array, order)
            tokens += len(id_array)
            sentences += len(length_array)
            if bar is not None:
                bar.update(len(chunk))
        rows, counts = counter.result(ordered=False)  # sorted (if ever) after the canonical renumbering
    finally:
        if bar is not None:
            bar.close()
        counter.close()
    if sentences == 0:
        raise CorpusError("empty corpus: no sentence to count")
    log.info("counted %d tokens in %d sentences: %d distinct %d-grams", tokens, sentences, rows.shape[0], order)
    return NGramCounts(order, vocab.words, rows, counts, tokens, sentences, {"lowercase": lowercase, "order": order}, _unique_rows=True)
