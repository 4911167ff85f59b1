"""Plain Python/NumPy twins of the numba kernels, in float64: slow, obvious, the truth for tests.

Each function makes the same random draws in the same order as its kernel, so one chunk of
training gives the same weights up to float32 rounding.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from corpuskit.embeddings.sigmoid import MAX_EXP, NEG_LOG_SIGMOID_TABLE, SIGMOID_TABLE, TABLE_SIZE, table_index

MASK64 = (1 << 64) - 1
KEEP_ALL = 1 << 32


def lcg_next(state: int) -> int:
    """word2vec.c's generator: state * 25214903917 + 11 modulo 2**64."""
    return (state * 25214903917 + 11) & MASK64


def draw_bits(state: int) -> int:
    return (state >> 16) & 0xFFFFFFFF


def _logistic_step(hidden, grad, wout, row, label, alpha) -> float:
    score = float(np.float32(hidden.astype(np.float32) @ wout[row].astype(np.float32)))
    if score >= MAX_EXP:
        prob, loss = 1.0, (score if label < 0.5 else 0.0)
    elif score <= -MAX_EXP:
        prob, loss = 0.0, (-score if label > 0.5 else 0.0)
    else:
        cell = table_index(score)
        prob = float(SIGMOID_TABLE[cell])
        loss = float(NEG_LOG_SIGMOID_TABLE[cell] if label > 0.5 else NEG_LOG_SIGMOID_TABLE[TABLE_SIZE - 1 - cell])
    g = (label - prob) * alpha
    grad += g * wout[row]
    wout[row] += g * hidden
    return loss


def _predict(hidden, grad, wout, target, cum_table, tree, hs, negative, alpha, state):
    loss, touched = 0.0, 0
    if hs:
        points, codes = tree.code(target)
        for point, code in zip(points, codes):
            loss += _logistic_step(hidden, grad, wout, int(point), 1.0 - int(code), alpha)
            touched += 1
        return loss, touched, state
    loss += _logistic_step(hidden, grad, wout, target, 1.0, alpha)
    touched += 1
    for _ in range(negative):
        state = lcg_next(state)
        sample = int(np.searchsorted(cum_table, draw_bits(state) % int(cum_table[-1]), side="right"))
        if sample != target:
            loss += _logistic_step(hidden, grad, wout, sample, 0.0, alpha)
            touched += 1
    return loss, touched, state


def train_chunk_reference(ids, win, wout, subwords, keep, cum_table, tree, sg, predict_center, hs, negative, window, alpha, seed):
    """Reference of kernels.train_chunk; `subwords[w]` lists word w's input rows. Updates win/wout (float64)."""
    state, loss, predictions, words = seed, 0.0, 0, 0
    raw_sentences: list[list[int]] = [[]]
    for word in ids:
        if word < 0:
            raw_sentences.append([])
        else:
            raw_sentences[-1].append(int(word))
    for raw in raw_sentences:
        sentence = []
        for word in raw:  # sub-sample this sentence, then train on it: the kernel's order of draws
            words += 1
            state = lcg_next(state)
            if keep[word] < KEEP_ALL and draw_bits(state) >= keep[word]:
                continue
            sentence.append(word)
        for i, center in enumerate(sentence):
            state = lcg_next(state)
            reach = window - (state >> 16) % window
            context = [j for j in range(max(0, i - reach), min(len(sentence), i + reach + 1)) if j != i]
            if sg:
                for j in context:
                    source, target = (sentence[j], center) if predict_center else (center, sentence[j])
                    rows = subwords[source]
                    hidden = win[rows].mean(axis=0)
                    grad = np.zeros_like(hidden)
                    step, touched, state = _predict(hidden, grad, wout, target, cum_table, tree, hs, negative, alpha, state)
                    loss += step
                    predictions += touched
                    for row in rows:
                        win[row] += grad
            else:
                rows = [row for j in context for row in subwords[sentence[j]]]
                if not rows:
                    continue
                hidden = win[rows].mean(axis=0)
                grad = np.zeros_like(hidden)
                step, touched, state = _predict(hidden, grad, wout, center, cum_table, tree, hs, negative, alpha, state)
                loss += step
                predictions += touched
                for row in rows:
                    win[row] += grad
    return loss, predictions, words


def window_rows_reference(ids, window: int) -> Counter:
    """Co-occurrence counts {(lower id, higher id, distance): n} over sentences (-1 ends one), one row per pair."""
    totals: Counter = Counter()
    sentence: list[int] = []
    for word in list(ids) + [-1]:
        if word < 0:
            for i, a in enumerate(sentence):
                for j in range(max(0, i - window), i):
                    b = sentence[j]
                    totals[(min(a, b), max(a, b), i - j)] += 1
            sentence = []
        else:
            sentence.append(int(word))
    return totals


def glove_epoch_reference(w, wt, b, bt, gw, gwt, gb, gbt, rows, cols, counts, order, x_max, alpha, eta) -> float:
    """Reference of glove_kernels.glove_epoch (float64 arrays, updated in place)."""
    cost = 0.0
    for e in order:
        i, j, x = rows[e], cols[e], counts[e]
        diff = w[i] @ wt[j] + b[i] + bt[j] - math.log(x)
        weight = 1.0 if x > x_max else (x / x_max) ** alpha
        cost += 0.5 * weight * diff * diff
        step = eta * weight * diff
        step_i, step_j = step * wt[j], step * w[i]
        w[i] -= step_i / np.sqrt(gw[i])
        wt[j] -= step_j / np.sqrt(gwt[j])
        gw[i] += step_i**2
        gwt[j] += step_j**2
        b[i] -= step / math.sqrt(gb[i])
        bt[j] -= step / math.sqrt(gbt[j])
        gb[i] += step**2
        gbt[j] += step**2
    return cost
