"""Numba kernels for GloVe: exact per-distance co-occurrence counting, and one AdaGrad pass.

Plain-Python twins live in `corpuskit.embeddings.reference` (window_rows_reference,
glove_epoch_reference); tests compare them on small random problems.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.spill import insert_row


@njit(cache=True, nogil=True)
def count_window_pairs(ids, first, window, table, rows, counts, n_rows):
    """Count (word, other, distance) and (other, word, distance) for every pair within `window` in a sentence.

    `ids` holds word ids with -1 ending each sentence; only words at positions >= `first` are
    centres (the ones before are the previous slice's context). Inserts into the table of a
    `corpuskit.spill.SpillCounter`, which needs room for 2 * window * (len(ids) - first) rows.
    Returns the new number of rows.
    """
    key = np.empty(3, dtype=np.int32)
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
            key[0] = word
            key[1] = other
            key[2] = i - j
            n_rows = insert_row(table, rows, counts, n_rows, key, 1)
            key[0] = other
            key[1] = word
            n_rows = insert_row(table, rows, counts, n_rows, key, 1)
    return n_rows


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
