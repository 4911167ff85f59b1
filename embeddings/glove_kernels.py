"""Numba kernels for GloVe: the keys of exact per-distance co-occurrence counting, and one AdaGrad pass.

Plain-Python twins live in `corpuskit.embeddings.reference` (window_rows_reference,
glove_epoch_reference); tests compare them on small random problems.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def window_keys(ids, first, window, vocab_size, out):
    """Write one int64 key per pair within `window` in a sentence; returns how many were written.

    The key of words a <= b at distance d is (a * vocab_size + b) * window + d - 1, so keys sort
    like the rows (a, b, d). One key per pair: the matrix is symmetric. `ids` holds word ids
    with -1 ending each sentence; only words at positions >= `first` are centres (the ones before
    are the previous slice's context). `out` needs window * (len(ids) - first) entries.
    """
    n = 0
    start = 0
    for i in range(ids.shape[0]):
        word = ids[i]
        if word < 0:
            start = i + 1
            continue
        if i < first:
            continue
        for j in range(max(start, i - window), i):
            other = ids[j]
            low, high = (other, word) if other < word else (word, other)
            out[n] = (np.int64(low) * vocab_size + high) * window + (i - j - 1)
            n += 1
    return n


@njit(cache=True, nogil=True, fastmath=True)
def glove_epoch(w, wt, b, bt, gw, gwt, gb, gbt, rows, cols, counts, order, x_max, alpha, eta):
    """AdaGrad on 0.5 * f(x) * (w_i . wt_j + b_i + bt_j - log x)^2 over entries `order`; returns the cost.

    f(x) = (x / x_max)^alpha below x_max, else 1 (Stanford GloVe's update, gradients from old values).
    """
    dim = w.shape[1]
    cost = 0.0
    for t in range(order.shape[0]):
        e = order[t]
        i = rows[e]
        j = cols[e]
        x = counts[e]
        dot = np.float32(0.0)
        for k in range(dim):
            dot += w[i, k] * wt[j, k]
        diff = float(dot) + b[i] + bt[j] - np.log(x)
        fdiff = diff if x > x_max else (x / x_max) ** alpha * diff
        cost += 0.5 * fdiff * diff
        fdiff *= eta
        for k in range(dim):
            step_i = np.float32(fdiff * wt[j, k])
            step_j = np.float32(fdiff * w[i, k])
            w[i, k] -= step_i / np.sqrt(gw[i, k])
            wt[j, k] -= step_j / np.sqrt(gwt[j, k])
            gw[i, k] += step_i * step_i
            gwt[j, k] += step_j * step_j
        b[i] -= fdiff / np.sqrt(gb[i])
        bt[j] -= fdiff / np.sqrt(gbt[j])
        gb[i] += fdiff * fdiff
        gbt[j] += fdiff * fdiff
    return cost
