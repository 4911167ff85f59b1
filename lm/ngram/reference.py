"""Plain-Python references of the numba kernels in `kernels.py` (the truth the tests compare with).

Slow and simple on purpose: dictionaries of tuples, one loop per idea.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def count_rows_ref(sentences: Sequence[Sequence[int]], order: int) -> Counter:
    """Maximal n-grams (tuples, at most `order` words, never reaching before `<s>`=1) and their counts.

    Example, order 3: [[5, 6]] -> {(1, 5): 1, (1, 5, 6): 1, (5, 6, 2): 1}.
    """
    counts: Counter = Counter()
    for words in sentences:
        tokens = [1, *words, 2]
        for i in range(1, len(tokens)):
            counts[tuple(tokens[max(0, i - order + 1) : i + 1])] += 1
    return counts


def ngram_counts_ref(rows: Counter) -> Counter:
    """Raw count of every n-gram (all orders) from maximal n-gram counts: sum over rows it ends."""
    raw: Counter = Counter()
    for row, count in rows.items():
        for j in range(len(row)):
            raw[row[j:]] += count
        for j in range(len(row)):  # make sure every prefix chain exists (count 0 if never an ending)
            for k in range(j + 1, len(row)):
                raw.setdefault(row[j:k], 0)
    return raw


def score_ref(sentence: Sequence[int], ngrams: dict[tuple, tuple[float, float]], order: int, bos: bool = True, eos: bool = True) -> list[float]:
    """log10 p of each token by textbook backoff over `ngrams` {(ids): (log10 prob, log10 backoff)}.

    p(w | h) = prob(h w) if (h w) is listed, else backoff(h) + p(w | h[1:]).
    """
    history = [1] if bos else []
    tokens = list(sentence) + ([2] if eos else [])
    scores = []
    for w in tokens:
        context = tuple(history[-(order - 1) :]) if order > 1 else ()
        total = 0.0
        while True:
            gram = context + (w,)
            if gram in ngrams:
                total += ngrams[gram][0]
                break
            if not context:
                raise KeyError(f"word id {w} has no unigram")
            total += ngrams[context][1] if context in ngrams else 0.0
            context = context[1:]
        scores.append(total)
        history.append(w)
    return scores


def mkn_ref(sentences: Sequence[Sequence[int]], order: int, vocab_size: int) -> dict[tuple, tuple[float, float]]:
    """Interpolated modified Kneser-Ney as lmplz computes it, with dictionaries (see estimate.py).

    Returns {n-gram ids: (log10 prob, log10 backoff)}; `<s>` gets -99 like our ARPA files.
    """
    import math

    raw = ngram_counts_ref(count_rows_ref(sentences, order))
    for w in range(vocab_size):
        raw.setdefault((w,), 0)
    left_extensions = Counter(g[1:] for g in raw if len(g) > 1)
    adjusted: dict[tuple, int] = {}
    for gram, count in raw.items():
        if len(gram) == order or gram[0] == 1:
            adjusted[gram] = count
        else:
            adjusted[gram] = left_extensions[gram]
    discounts = {}
    for k in range(1, order + 1):
        n = [sum(1 for g, c in adjusted.items() if len(g) == k and c == j) for j in range(5)]
        y = n[1] / (n[1] + 2 * n[2])
        discounts[k] = [0.0] + [j - (j + 1) * y * n[j + 1] / n[j] for j in (1, 2, 3)]
    denominator: Counter = Counter()
    gamma: Counter = Counter()
    for gram, count in adjusted.items():
        denominator[gram[:-1]] += count
        gamma[gram[:-1]] += discounts[len(gram)][min(count, 3)]
    prob: dict[tuple, float] = {}
    for gram in sorted(adjusted, key=len):
        count = adjusted[gram]
        ctx = gram[:-1]
        p = (count - discounts[len(gram)][min(count, 3)]) / denominator[ctx]
        lower = 1.0 / (vocab_size - 1) if len(gram) == 1 else prob[gram[1:]]
        prob[gram] = p + gamma[ctx] / denominator[ctx] * lower
    prob[(1,)] = 1.0
    contexts = {g[:-1] for g in adjusted}
    result = {}
    for gram, p in prob.items():
        is_context = len(gram) < order and gram in contexts
        backoff = gamma[gram] / denominator[gram] if is_context else 1.0
        result[gram] = (-99.0 if gram == (1,) else math.log10(p), math.log10(backoff))
    return result


def renumber_ref(parent_row, word, node_order, max_order: int, vocab_size: int):
    """New node ids sorted by (order, new parent id, word), by numpy lexsort one order at a time."""
    import numpy as np

    n = len(parent_row)
    new_id = np.empty(n, dtype=np.int64)
    new_id[:vocab_size] = np.arange(vocab_size)
    offsets = [0, vocab_size]
    for k in range(2, max_order + 1):
        rows_k = np.flatnonzero(node_order == k)
        perm = np.lexsort((word[rows_k], new_id[parent_row[rows_k]]))
        new_id[rows_k[perm]] = offsets[-1] + np.arange(len(rows_k))
        offsets.append(offsets[-1] + len(rows_k))
    return new_id, offsets
