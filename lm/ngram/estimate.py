"""Smoothing: n-gram counts -> a backoff model (log10 probabilities and backoffs per n-gram).

Modified Kneser-Ney follows KenLM's lmplz exactly (Heafield et al. 2013):
- adjusted counts: the highest order and n-grams starting with `<s>` keep raw counts; every
  other n-gram counts its distinct one-word left extensions (continuation count);
- three discounts per order from counts-of-counts of adjusted counts (Chen & Goodman eq. 26);
- each order is interpolated with the one below; the unigrams with the uniform distribution
  over the vocabulary without `<s>`, so `<unk>` gets gamma(empty)/(|V|-1);
- the backoff of a context is its interpolation weight gamma; `<s>` has probability 1.
Pruning (count cut-offs, lmplz's `--prune`): n-grams of order >= 2 seen at most `prune[k]`
times are dropped; their mass goes to the context's backoff. Memory: O(distinct n-grams).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.lm.ngram.counting import NGramCounts
from corpuskit.lm.ngram.model import NGramModel

log = logging.getLogger(__name__)

Smoothing = Literal["mkn", "kn", "addk", "mle", "stupid"]
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # lmplz's --discount_fallback defaults


class _Trie:
    """Every n-gram of the counts as a node: parent (prefix), last word, suffix link, raw count."""

    def __init__(self, counts: NGramCounts) -> None:
        from corpuskit.lm.ngram import kernels

        vocab_size = len(counts.words)
        bound = vocab_size + counts.rows.shape[0] * max(counts.order - 1, 0)
        capacity = 1 << max(4, int(1.3 * bound).bit_length())  # at most ~0.6 full
        table = np.zeros((capacity, 2), dtype=np.int64)  # zero pages: only touched slots cost
        parent = np.empty(bound, dtype=np.int64)  # the kernel writes every node past the unigrams
        parent[:vocab_size] = -1
        word = np.empty(bound, dtype=np.int32)
        word[:vocab_size] = np.arange(vocab_size, dtype=np.int32)
        suffix = np.empty(bound, dtype=np.int64)
        suffix[:vocab_size] = -1
        raw = np.zeros(bound, dtype=np.int64)
        n = kernels.build_trie(counts.rows, counts.counts, vocab_size, table, parent, word, suffix, raw, vocab_size)
        self.vocab_size = vocab_size
        self.parent, self.word, self.suffix, self.raw = parent[:n], word[:n], suffix[:n], raw[:n]
        self.order, self.first = kernels.node_orders(self.parent, self.word, vocab_size)

    def release_counts(self) -> None:
        """Drop what only estimation needs (suffix links, counts), before the model is built."""
        self.suffix = self.raw = self.first = np.empty(0, dtype=np.int64)


def continuation_counts(trie: _Trie, max_order: int) -> np.ndarray:
    """lmplz's adjusted counts: distinct left extensions, raw for the top order and `<s>...`."""
    adjusted = trie.raw.copy()
    longer = trie.order >= 2
    extensions = np.bincount(trie.suffix[longer], minlength=len(adjusted))
    lower = (trie.order < max_order) & (trie.first != 1)
    adjusted[lower] = extensions[lower]
    return adjusted


def kn_discounts(n: Sequence[int], modified: bool, order: int, fallback: bool) -> tuple[float, float, float]:
    """(D1, D2, D3+) from counts-of-counts n[0..4] (Chen & Goodman eq. 26); plain KN: D1=D2=D3."""
    n = [int(x) for x in n]
    try:
        if n[1] == 0 or n[2] == 0 or (modified and (n[3] == 0 or n[4] == 0)):
            raise CorpusError(
                f"cannot estimate Kneser-Ney discounts for {order}-grams: counts-of-counts n1..n4 = {n[1:]} "
                "(tiny or artificial data?); use discount_fallback=True or another smoothing"
            )
        y = n[1] / (n[1] + 2.0 * n[2])
        if not modified:
            return (y, y, y)
        d = tuple(j - (j + 1) * y * n[j + 1] / n[j] for j in (1, 2, 3))
        for j, dj in enumerate(d, start=1):
            if not 0 <= dj <= j:
                raise CorpusError(f"{order}-gram discount D{j} = {dj:.4f} out of range [0, {j}]; use discount_fallback=True")
        return d  # type: ignore[return-value]
    except CorpusError:
        if not fallback:
            raise
        log.warning("order %d: substituting fallback discounts %s", order, FALLBACK_DISCOUNTS)
        return FALLBACK_DISCOUNTS


def _per_context_sum(parent: np.ndarray, values: np.ndarray, n_nodes: int) -> np.ndarray:
    """Sum of `values` per parent node; unigrams (parent -1) sum into the last slot."""
    return np.bincount(np.where(parent < 0, n_nodes, parent), weights=values, minlength=n_nodes + 1)


def estimate(
    counts: NGramCounts,
    smoothing: Smoothing = "mkn",
    prune: Sequence[int] | None = None,
    add_k: float = 1.0,
    stupid_alpha: float = 0.4,
    discount_fallback: bool = False,
    engine: Literal["numba", "numpy"] = "numba",
) -> NGramModel:
    """Build a backoff model from counts with the chosen smoothing (see the module docstring).

    engine="numpy" runs Kneser-Ney with whole-array NumPy operations: the reference the numba
    kernel is tested against.
    """
    order = counts.order
    thresholds = list(prune or [0] * order)
    if len(thresholds) > order:
        raise ValueError(f"prune has {len(thresholds)} thresholds for an order-{order} model")
    thresholds += [thresholds[-1] if thresholds else 0] * (order - len(thresholds))
    if thresholds[0] != 0:
        raise ValueError("unigrams cannot be pruned (the first prune threshold must be 0)")
    if any(b < a for a, b in zip(thresholds, thresholds[1:])):
        raise ValueError(f"prune thresholds must not decrease with the order, got {thresholds}")
    trie = _Trie(counts)
    n = len(trie.raw)
    v = trie.vocab_size
    node_order = trie.order
    pruned = (node_order >= 2) & (trie.raw <= np.asarray([0, *thresholds])[node_order])
    is_bos = np.zeros(n, dtype=bool)
    is_bos[1] = True
    discounts: list[tuple[float, float, float]] = []
    meta = {"smoothing": smoothing, "discounts": discounts, "prune": thresholds, "tokens": counts.tokens, "sentences": counts.sentences}

    if smoothing in ("mkn", "kn"):
        from corpuskit.lm.ngram import kernels

        adjusted_int = continuation_counts(trie, order)
        coc = kernels.counts_of_counts(adjusted_int, node_order, order)
        discount_table = np.zeros((order + 1, 4))
        for k in range(1, order + 1):
            discounts.append(kn_discounts(coc[k], smoothing == "mkn", k, discount_fallback))
            discount_table[k, 1:] = discounts[-1]
        if engine == "numba":
            log_prob, log_backoff = kernels.kneser_ney(trie.parent, trie.suffix, node_order, adjusted_int, pruned, discount_table, v, order,
                                                       NGramModel.LOG_ZERO)
            del adjusted_int
            trie.release_counts()
            return _model(counts.words, order, trie, node_order, log_prob, log_backoff, pruned, meta)
        adjusted = adjusted_int.astype(np.float64)
        discount = discount_table[node_order, np.minimum(adjusted_int, 3)]
        by_order = [np.flatnonzero(node_order == k) for k in range(1, order + 1)]
        denominator = _per_context_sum(trie.parent, adjusted, n)
        left = np.where(pruned, adjusted, discount)
        gamma = _per_context_sum(trie.parent, left, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            gamma = np.where(denominator > 0, gamma / denominator, 0.0)
            uninterp = (adjusted - discount) / denominator[np.where(trie.parent < 0, n, trie.parent)]
        prob = np.zeros(n)
        uniform = 1.0 / (v - 1)
        prob[:v] = uninterp[:v] + gamma[n] * uniform
        prob[1] = 1.0
        for nodes in by_order[1:]:
            prob[nodes] = uninterp[nodes] + gamma[trie.parent[nodes]] * prob[trie.suffix[nodes]]
        backoff = gamma[:n]
    else:
        raw = trie.raw.astype(np.float64)
        raw[1] = 0.0
        denominator = _per_context_sum(trie.parent, raw, n)
        context_of = np.where(trie.parent < 0, n, trie.parent)
        if smoothing == "stupid":
            with np.errstate(invalid="ignore", divide="ignore"):
                prob = raw / denominator[context_of]
            backoff = np.full(n, stupid_alpha)
        elif smoothing in ("addk", "mle"):
            k_add = add_k if smoothing == "addk" else 0.0
            vocab_out = v - 1  # <s> is never predicted
            prob = (raw + k_add) / (denominator[context_of] + k_add * vocab_out)
            prob[1] = 0.0
            kept = ~pruned
            seen_mass = _per_context_sum(trie.parent, np.where(kept, prob, 0.0), n)
            lower_mass = _per_context_sum(trie.parent, np.where(kept & (trie.suffix >= 0), prob[np.maximum(trie.suffix, 0)], 0.0), n)
            with np.errstate(invalid="ignore", divide="ignore"):
                backoff = np.where(lower_mass < 1.0, np.clip(1.0 - seen_mass, 0.0, None) / (1.0 - lower_mass), 0.0)[:n]
            # unigram contexts: the lower order of a bigram is the unigram distribution
            prob[1] = 1.0
        else:
            raise ValueError(f"unknown smoothing {smoothing!r}; choose mkn, kn, addk, mle or stupid")
        prob[1] = 1.0
    has_children = np.bincount(trie.parent[(trie.parent >= 0) & ~pruned], minlength=n) > 0
    backoff = np.where(has_children & (node_order < order), backoff, 1.0)
    with np.errstate(divide="ignore"):
        log_prob = np.minimum(np.log10(prob), 0.0)
        log_backoff = np.log10(backoff)
    log_prob[is_bos] = NGramModel.LOG_ZERO
    log_prob = np.maximum(log_prob, NGramModel.LOG_ZERO)
    log_backoff = np.maximum(log_backoff, NGramModel.LOG_ZERO)
    if smoothing == "addk":
        meta["add_k"] = add_k
    if smoothing == "stupid":
        meta["alpha"] = stupid_alpha
    return _model(counts.words, order, trie, node_order, log_prob, log_backoff, pruned, meta)


def _model(words: list[str], order: int, trie: _Trie, node_order: np.ndarray, log_prob: np.ndarray, log_backoff: np.ndarray,
           pruned: np.ndarray, meta: dict) -> NGramModel:
    """The model of the unpruned nodes."""
    meta["discounts"] = [list(d) for d in meta["discounts"]]
    if not pruned.any():
        return NGramModel.from_nodes(words, order, trie.parent, trie.word, node_order, log_prob, log_backoff, None, meta)
    keep = ~pruned
    return NGramModel.from_nodes(words, order, trie.parent[keep], trie.word[keep], node_order[keep], log_prob[keep], log_backoff[keep],
                                 np.flatnonzero(keep), meta)
