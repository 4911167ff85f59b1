"""Decoding state of an n-gram model: per row, the context KenLM's state keeps.

Row r holds nodes[r, m], the node of its last m+1 words, for m < lengths[r]: the matched suffixes
of its history, at most order-1 words, cut at the first that has no children and backoff 0
(such a context cannot change a later score). `advance` moves rows past words with the same
state step the scorer uses (`kernels._advance`); `next_log10probs` gives each row's whole
next-word distribution. Memory: O(B * order); a distribution O(B * V).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from corpuskit.lm.ngram.vocab import BOS_ID

if TYPE_CHECKING:
    from corpuskit.lm.ngram.model import NGramModel


@dataclass(frozen=True)
class ContextState:
    """The contexts of B rows: nodes (B, max(order-1, 1)) int64 with -1 past lengths (B,) int64."""

    nodes: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)

    def take(self, indices: np.ndarray) -> "ContextState":
        """Rows `indices` (repeats allowed), copied."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < -len(self) or indices.max() >= len(self)):
            raise IndexError(f"reorder: row index out of range for a state of {len(self)} rows")
        return ContextState(self.nodes[indices], self.lengths[indices])


def begin(model: "NGramModel", rows: int, bos: bool = True) -> ContextState:
    """`rows` contexts at a sentence start (`<s>`) or, with bos=False, empty (KenLM's null context)."""
    nodes = np.full((rows, max(model.order - 1, 1)), -1, dtype=np.int64)
    lengths = np.zeros(rows, dtype=np.int64)
    if bos and model.order > 1:
        nodes[:, 0] = BOS_ID
        lengths[:] = 1
    return ContextState(nodes, lengths)


def check_ids(model: "NGramModel", ids: np.ndarray) -> None:
    """A ValueError naming the first id that is not a word id of the model."""
    v = len(model.words)
    if ids.size and (ids.min() < 0 or ids.max() >= v):
        bad = int(ids[(ids < 0) | (ids >= v)][0])
        raise ValueError(f"token id {bad} is not in this model's vocabulary ({v} words)")


ONE_ROW = np.array([0, 1], dtype=np.int64)


def advance(model: "NGramModel", state: ContextState, words: Sequence[int] | np.ndarray,
            starts: np.ndarray | None = None, checked: bool = False) -> tuple[np.ndarray, np.ndarray, ContextState]:
    """Move each row past its words; returns (log10 p, matched n-gram length) of every word, flat,
    and the new state (the old one is left as it was).

    `words` is one id per row (an array of B ids, `starts` None), or flat ids with row r's words
    at words[starts[r]:starts[r + 1]]; `checked` skips the id range check (ids from the
    vocabulary). Time: O(words * order) hash probes.
    """
    ids = np.ascontiguousarray(words, dtype=np.int64).ravel()
    if not checked:
        check_ids(model, ids)
    if starts is None:
        if len(ids) != len(state):
            raise ValueError(f"step got {len(ids)} tokens for {len(state)} rows")
        starts = ONE_ROW if len(ids) == 1 else np.arange(len(ids) + 1, dtype=np.int64)
    nodes, lengths = state.nodes.copy(), state.lengths.copy()
    scores, matched = advance_in_place(model, nodes, lengths, ids, np.ascontiguousarray(starts, dtype=np.int64))
    return scores, matched, ContextState(nodes, lengths)


def advance_in_place(model: "NGramModel", nodes: np.ndarray, lengths: np.ndarray, ids: np.ndarray,
                     starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`advance` on the state's arrays themselves (int64, C-contiguous, ids already checked)."""
    from corpuskit.lm.ngram import kernels

    scores = np.empty(len(ids), dtype=np.float64)
    matched = np.empty(len(ids), dtype=np.int64)
    kernels.advance_contexts(nodes, lengths, ids, starts, model.order, len(model.words), *model._scoring_arrays(), scores, matched)
    return scores, matched


def next_log10probs(model: "NGramModel", state: ContextState) -> np.ndarray:
    """log10 p(w | row's context) for every word id w, shape (B, V); `<s>` gets LOG_ZERO.

    Starts from the unigram probabilities and, for each context node from the shortest, adds its
    backoff to every word and puts back its children's own probabilities: the same sums, in the
    same order, as the scorer's. Time: O(B * V * order).
    """
    v = len(model.words)
    out = np.empty((len(state), v), dtype=np.float64)
    unigram = model.prob[:v]
    for row in range(len(state)):  # row by row, so each row stays in cache while it is built
        scores = out[row]
        scores[:] = unigram
        for node in state.nodes[row, : state.lengths[row]]:
            k = int(np.searchsorted(model.offsets, node, side="right"))  # children are (k+1)-grams
            start, stop = model.offsets[k], model.offsets[k + 1]
            lo = start + np.searchsorted(model.parent[start:stop], node, side="left")
            hi = start + np.searchsorted(model.parent[start:stop], node, side="right")
            scores += model.backoff[node]
            scores[model.word[lo:hi]] = model.prob[lo:hi]
    out[:, BOS_ID] = model.LOG_ZERO
    return out
