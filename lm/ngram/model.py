"""A backoff n-gram model: score sentences like KenLM, save as ARPA or a fast native npz.

Nodes are numbered by order, then parent, then word, so a context's children are one slice
and unigram nodes are the word ids. Lookups go through a (parent node, word) -> node hash
built on first use. Memory: O(n-grams): 20 bytes each, plus 24-byte hash slots (1.5-3 per n-gram).
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.lm.ngram import state as ngram_state
from corpuskit.lm.ngram.kenlm_api import KenLMQueries
from corpuskit.lm.ngram.state import ContextState
from corpuskit.lm.ngram.vocab import BOS_ID, EOS_ID, UNK_ID, Vocabulary, pack_words, split_words, unpack_words
from corpuskit.modelfile import ModelFileError, load_arrays, save_arrays
from corpuskit.trainer import Model

NATIVE_FORMAT = "corpuskit.ngram"
NATIVE_VERSION = 1
LEGACY_FORMAT = "corpuskit.ngram/1"  # the npz layout before corpuskit.modelfile; still read
ARPA_SUFFIXES = (".arpa", ".arpa.gz", ".arpa.bz2", ".arpa.xz", ".arpa.zst")


@dataclass(frozen=True)
class Evaluation:
    """Totals of scoring a corpus; perplexities as KenLM's `query` reports them."""

    sentences: int
    words: int  # words in the text (OOVs included), without </s>
    oovs: int
    log10_prob: float  # sum over scored tokens (words and </s>), OOVs included
    log10_prob_oov: float  # the part of log10_prob that OOV tokens contribute

    @property
    def tokens(self) -> int:
        """Scored tokens: words plus one `</s>` per sentence."""
        return self.words + self.sentences

    @property
    def perplexity(self) -> float:
        return 10.0 ** (-self.log10_prob / self.tokens) if self.tokens else math.nan

    @property
    def perplexity_excluding_oov(self) -> float:
        scored = self.tokens - self.oovs
        return 10.0 ** (-(self.log10_prob - self.log10_prob_oov) / scored) if scored else math.nan

    @property
    def cross_entropy_bits(self) -> float:
        """Average -log2 p per scored token (OOVs included)."""
        return -self.log10_prob / self.tokens * math.log2(10.0) if self.tokens else math.nan


class NGramModel(KenLMQueries, Model):
    """log10 probabilities and backoffs of n-grams; the object every estimator and reader returns.

    Query with `score` (one sentence), `score_batch` (many: the fast path), `full_scores`,
    `evaluate`/`perplexity` (a corpus), kenlm's word-by-word `BaseScore` with a `State`; decode
    with `corpuskit.lm.decoding` (the model is a `LanguageModel`: `start`, `step`, `reorder`).
    """

    LOG_ZERO = -99.0  # ARPA's log10(0) (SRILM convention)

    def __init__(self, words: Sequence[str], order: int, parent: np.ndarray, word: np.ndarray, prob: np.ndarray,
                 backoff: np.ndarray, offsets: np.ndarray, meta: dict[str, Any] | None = None) -> None:
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.vocab = Vocabulary.from_words(words)
        if self.vocab.words[:3] != ["<unk>", "<s>", "</s>"] or len(self.vocab.index) != len(words):
            raise CorpusError("model vocabulary must start with <unk>, <s>, </s> and list each word once")
        self.order = order
        self.parent = np.ascontiguousarray(parent, dtype=np.int64)
        self.word = np.ascontiguousarray(word, dtype=np.int32)
        self.prob = np.ascontiguousarray(prob, dtype=np.float32)
        self.backoff = np.ascontiguousarray(backoff, dtype=np.float32)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.meta = dict(meta or {})
        self._table: np.ndarray | None = None
        self._scoring: tuple[np.ndarray, ...] | None = None

    # construction -------------------------------------------------------------------------

    @classmethod
    def from_nodes(cls, words: Sequence[str], order: int, parent: np.ndarray, word: np.ndarray, node_order: np.ndarray,
                   prob: np.ndarray, backoff: np.ndarray, ids: np.ndarray | None, meta: dict[str, Any] | None = None) -> "NGramModel":
        """Renumber nodes (given with their own `ids`, or None for 0..n-1; `parent` refers to those) into model order.

        The first len(words) nodes must be the unigrams, node i being word i.
        """
        from corpuskit.lm.ngram import kernels

        v = len(words)
        n = len(parent)
        node_order = np.asarray(node_order, dtype=np.int64)
        if n < v or (ids is not None and not np.array_equal(ids[:v], np.arange(v))) or int(np.count_nonzero(node_order == 1)) != v or (node_order[:v] != 1).any():
            raise CorpusError("every vocabulary word needs a unigram")
        if ids is None:
            parent_row = np.asarray(parent, dtype=np.int64)
        else:
            row_of = np.full(int(ids.max()) + 1 if n else 0, -1, dtype=np.int64)
            row_of[ids] = np.arange(n)
            parent_row = np.where(parent < 0, -1, row_of[np.maximum(parent, 0)])
        word = np.asarray(word, dtype=np.int32)
        new_id, offsets = kernels.renumber_nodes(parent_row, word, node_order, order, v)
        out_parent = np.full(n, -1, dtype=np.int64)
        out_parent[new_id] = np.where(parent_row < 0, -1, new_id[np.maximum(parent_row, 0)])
        out_word = np.empty(n, dtype=np.int32)
        out_word[new_id] = word
        out_prob = np.empty(n, dtype=np.float32)
        out_prob[new_id] = prob
        out_backoff = np.empty(n, dtype=np.float32)
        out_backoff[new_id] = backoff
        return cls(words, order, out_parent, out_word, out_prob, out_backoff, offsets, meta)

    @property
    def words(self) -> list[str]:
        return self.vocab.words  # type: ignore[union-attr]

    def __len__(self) -> int:
        return len(self.parent)

    def counts(self) -> list[int]:
        """Number of n-grams of each order (ARPA's `\\data\\` section)."""
        return [int(b - a) for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def __repr__(self) -> str:
        return f"NGramModel(order={self.order}, vocab={len(self.words)}, ngrams={self.counts()}, smoothing={self.meta.get('smoothing')!r})"

    def _child_table(self) -> np.ndarray:
        if self._table is None:
            from corpuskit.lm.ngram import kernels

            capacity = 1 << max(4, int(1.5 * max(len(self) - len(self.words), 1)).bit_length())
            # a context that can change a later score: it has children or a non-zero backoff
            # (KenLM keeps the same ones in its state)
            has_children = self.backoff != 0
            has_children[self.parent[self.parent >= 0]] = True
            self._has_children = has_children
            self._table = kernels.build_child_table(self.parent, self.word, self.prob, self.backoff, has_children, len(self.words), capacity)
        return self._table

    def _scoring_arrays(self) -> tuple[np.ndarray, ...]:
        """The scorer's arrays after the vocabulary arguments: table, its float view, prob, backoff,
        which unigrams extend a context."""
        if self._scoring is None:
            table = self._child_table()
            self._scoring = (table, table.view(np.float32), self.prob, self.backoff, self._has_children[: len(self.words)])
        return self._scoring

    def ngrams(self, order: int) -> Iterator[tuple[tuple[int, ...], float, float]]:
        """(word ids, log10 prob, log10 backoff) of every n-gram of one order, in model order."""
        start, stop = self.offsets[order - 1], self.offsets[order]
        for node in range(start, stop):
            ids = []
            at = node
            while at >= 0:
                ids.append(int(self.word[at]))
                at = self.parent[at]
            yield tuple(reversed(ids)), float(self.prob[node]), float(self.backoff[node])

    # scoring ------------------------------------------------------------------------------

    def encode(self, sentences: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word ids (OOV -> 0) of sentences split like KenLM, flat, and each sentence's length."""
        return self.vocab.encode_fixed(sentences)  # type: ignore[union-attr]

    def score_ids(self, ids: np.ndarray, lengths: np.ndarray, bos: bool = True, eos: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """log10 p of every scored token and the length of the n-gram that matched."""
        from corpuskit.lm.ngram import kernels

        total = int(lengths.sum()) + (len(lengths) if eos else 0)
        out = np.empty(total, dtype=np.float64)
        out_order = np.empty(total, dtype=np.int32)
        kernels.score_tokens(np.ascontiguousarray(ids, dtype=np.int32), np.ascontiguousarray(lengths, dtype=np.int64), bool(bos), bool(eos),
                             self.order, len(self.words), *self._scoring_arrays(), out, out_order)
        return out, out_order

    def score_batch(self, sentences: Iterable[str], bos: bool = True, eos: bool = True) -> np.ndarray:
        """Total log10 probability of each sentence (KenLM's `score(s, bos, eos)`), as an array."""
        ids, lengths = self.encode(sentences)
        scores, _ = self.score_ids(ids, lengths, bos, eos)
        per = lengths + (1 if eos else 0)
        ends = np.cumsum(per)
        sums = np.concatenate([[0.0], np.cumsum(scores)])
        return sums[ends] - sums[ends - per]

    def score(self, sentence: str, bos: bool = True, eos: bool = True) -> float:
        """log10 probability of one sentence, with `<s>` context and `</s>` as asked."""
        return float(self.score_batch([sentence], bos, eos)[0])

    def full_scores(self, sentence: str, bos: bool = True, eos: bool = True) -> list[tuple[float, int, bool]]:
        """(log10 p, matched n-gram length, is OOV) per scored token, like KenLM's `full_scores`."""
        ids, lengths = self.encode([sentence])
        scores, orders = self.score_ids(ids, lengths, bos, eos)
        oov = np.concatenate([ids == UNK_ID, [False] if eos else []]).astype(bool)
        return [(float(s), int(o), bool(u)) for s, o, u in zip(scores, orders, oov)]

    def evaluate(self, sentences: Iterable[str], chunk: int = 10_000) -> Evaluation:
        """Score a corpus streaming in chunks. Memory: O(chunk)."""
        n_sent = words = oovs = 0
        logp = logp_oov = 0.0
        batch: list[str] = []

        def flush() -> None:
            nonlocal n_sent, words, oovs, logp, logp_oov
            ids, lengths = self.encode(batch)
            scores, _ = self.score_ids(ids, lengths, True, True)
            is_oov = np.zeros(len(scores), dtype=bool)
            word_pos = np.arange(len(ids)) + np.repeat(np.arange(len(lengths)), lengths)
            is_oov[word_pos] = ids == UNK_ID
            n_sent += len(lengths)
            words += len(ids)
            oovs += int(is_oov.sum())
            logp += float(scores.sum())
            logp_oov += float(scores[is_oov].sum())
            batch.clear()

        for sentence in sentences:
            batch.append(sentence)
            if len(batch) >= chunk:
                flush()
        if batch:
            flush()
        return Evaluation(n_sent, words, oovs, logp, logp_oov)

    def perplexity(self, sentences: Iterable[str] | str) -> float:
        """Perplexity over sentences, OOVs included, `</s>` counted (KenLM's convention)."""
        if isinstance(sentences, str):
            sentences = [sentences]
        return self.evaluate(sentences).perplexity

    # decoding: the LanguageModel protocol of corpuskit.lm.decoding ------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    def start(self, prompts: Sequence[Sequence[int]]) -> tuple[np.ndarray, ContextState]:
        """Read prompts (word ids) after `<s>` (a leading `<s>` id is that same one): natural-log
        next-word probabilities (B, V) and the state. Time: O(B * V * order + prompt words)."""
        rows = [list(p[1:]) if len(p) and int(p[0]) == BOS_ID else list(p) for p in prompts]
        starts = np.zeros(len(rows) + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(r) for r in rows])
        flat = np.fromiter((int(t) for r in rows for t in r), dtype=np.int64, count=int(starts[-1]))
        _, _, state = ngram_state.advance(self, ngram_state.begin(self, len(rows)), flat, starts)
        return self._natural(ngram_state.next_log10probs(self, state)), state

    def step(self, state: ContextState, tokens: np.ndarray) -> tuple[np.ndarray, ContextState]:
        """Append one word id per row: natural-log next-word probabilities (B, V) and the new state."""
        _, _, state = ngram_state.advance(self, state, tokens)
        return self._natural(ngram_state.next_log10probs(self, state)), state

    @staticmethod
    def _natural(log10probs: np.ndarray) -> np.ndarray:
        log10probs *= math.log(10.0)  # in place: a batch of distributions is large
        return log10probs

    def reorder(self, state: ContextState, indices: np.ndarray) -> ContextState:
        """Rows `indices` of `state` (beam search; rows may repeat)."""
        return state.take(indices)

    def next_log10probs(self, history: Sequence[int]) -> np.ndarray:
        """log10 p(w | history) for every word id w, history given in full (start it with `<s>`'s
        id 1 for a sentence start); `<s>` gets LOG_ZERO. Memory: O(vocabulary)."""
        _, _, state = ngram_state.advance(self, ngram_state.begin(self, 1, bos=False), np.asarray(history, dtype=np.int64),
                                          np.array([0, len(history)]))
        return ngram_state.next_log10probs(self, state)[0]

    def sentence_ids(self, text: str) -> list[int]:
        """Word ids of a text (OOV -> `<unk>`)."""
        index = self.vocab.index  # type: ignore[union-attr]
        return [index.get(w, UNK_ID) for w in split_words(text)]

    # files ------------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """ARPA when the name ends in .arpa (optionally compressed), else the native npz (`corpuskit.modelfile`)."""
        if str(path).endswith(ARPA_SUFFIXES):
            from corpuskit.lm.ngram.arpa import write_arpa

            write_arpa(self, path)
            return
        word_bytes, word_offsets = pack_words(self.words)
        arrays = {"parent": self.parent, "word": self.word, "prob": self.prob, "backoff": self.backoff, "offsets": self.offsets,
                  "word_bytes": word_bytes, "word_offsets": word_offsets}
        save_arrays(path, NATIVE_FORMAT, NATIVE_VERSION, arrays, {"order": self.order, "meta": self.meta})

    @classmethod
    def load(cls, path: str | Path) -> "NGramModel":
        """Read an ARPA file (.arpa, .arpa.gz, ...) or a native .npz model (also the layout before modelfile).

        A bad or foreign native file is a ModelFileError; a malformed ARPA file a CorpusError naming the line.
        """
        with open(path, "rb") as handle:
            magic = handle.read(4)
        if not magic:
            raise ModelFileError(path, "an n-gram model (ARPA or .npz)", "an empty file")
        if magic != b"PK\x03\x04":
            from corpuskit.lm.ngram.arpa import read_arpa

            return read_arpa(path)
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            names = []  # load_arrays says what is wrong
        if "meta.npy" in names and "__meta__.npy" not in names:
            return cls._load_legacy(path)
        arrays, meta = load_arrays(path, NATIVE_FORMAT, NATIVE_VERSION,
                                   required=("parent", "word", "prob", "backoff", "offsets", "word_bytes", "word_offsets"))
        check_scores(path, arrays["prob"], arrays["backoff"])
        try:
            words = unpack_words(arrays["word_bytes"], arrays["word_offsets"])
            return cls(words, meta["order"], arrays["parent"], arrays["word"], arrays["prob"], arrays["backoff"], arrays["offsets"], meta["meta"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(path, f"a consistent {NATIVE_FORMAT} file", f"{type(exc).__name__}: {exc}") from None

    @classmethod
    def _load_legacy(cls, path: str | Path) -> "NGramModel":
        """A native file written before `corpuskit.modelfile` (arrays + a JSON `meta` array)."""
        expected = f"a {LEGACY_FORMAT} file"
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            meta = json.loads(arrays["meta"].tobytes().decode())
            if not isinstance(meta, dict) or meta.get("format") != LEGACY_FORMAT:
                raise ModelFileError(path, expected, f"format {meta.get('format') if isinstance(meta, dict) else meta!r}")
            check_scores(path, arrays["prob"], arrays["backoff"])
            return cls(meta["words"], meta["order"], arrays["parent"], arrays["word"], arrays["prob"], arrays["backoff"], arrays["offsets"], meta["meta"])
        except ModelFileError:
            raise
        except (KeyError, OSError, TypeError, ValueError, CorpusError) as exc:
            raise ModelFileError(path, expected, f"{type(exc).__name__}: {exc}") from None


def check_scores(path: str | Path, prob: np.ndarray, backoff: np.ndarray) -> None:
    """A model's log10 probabilities must be <= 0 and its backoffs numbers: anything else is a damaged file."""
    if np.isnan(prob).any() or (prob > 0).any() or np.isnan(backoff).any():
        raise ModelFileError(path, "log10 probabilities <= 0 and numeric backoffs", "a probability > 0 or a NaN")


__all__ = ["ARPA_SUFFIXES", "EOS_ID", "Evaluation", "NGramModel"]
