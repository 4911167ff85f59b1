"""Numba kernel for fastText supervised training, and its plain-Python reference above it.

One example is a CSR slice of input rows (word rows, their character n-gram buckets, word
n-gram buckets) and a slice of label ids. The update is fastText's:

    hidden = mean(win[rows]);  grad = 0
    softmax  one label drawn among the example's; output = softmax(wout @ hidden); for every label i:
             alpha = lr * ([i == target] - output[i]); grad += alpha * wout[i]; wout[i] += alpha * hidden
    ova      every label i: a logistic step towards [i in labels] (multi-label one-vs-all)
    ns       a drawn label towards 1, then `neg` labels drawn from counts**0.5 towards 0
    hs       a drawn label: a logistic step at each inner node of its Huffman path (leaf to
             root), towards the branch taken (`paths`: CSR of node rows and codes per label)
    win[rows] += grad / len(rows)

The learning rate falls linearly, lr0 * (1 - tokens done / total tokens), per example. The
logistic function is fastText's 512-step table over [-8, 8] (so ova/ns probabilities equal
fastText's), softmax uses exp. Randomness: word2vec.c's LCG (`corpuskit.embeddings.kernels`), so
one worker and one seed reproduce a run and the reference replays it draw for draw.
Time per example: O(rows * dim + labels * dim); memory: O(labels) scratch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from corpuskit.embeddings import reference
from corpuskit.embeddings.kernels import bisect_right, draw_bits, lcg_next
from corpuskit.embeddings.vocab import NEGATIVE_DOMAIN

SOFTMAX, OVA, NS, HS = 0, 1, 2, 3
LOSS_KINDS = {"softmax": SOFTMAX, "ova": OVA, "ns": NS, "hs": HS}
MAX_SIGMOID = 8.0
SIGMOID_TABLE_SIZE = 512
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-(np.arange(SIGMOID_TABLE_SIZE + 1) * 2 * MAX_SIGMOID / SIGMOID_TABLE_SIZE - MAX_SIGMOID)))).astype(np.float32)
LOG_FLOOR = 1e-5  # fastText adds it inside every log (its std_log)


def table_sigmoid(x: np.ndarray | float) -> np.ndarray:
    """fastText's tabled logistic: 0 below -8, 1 above 8, else the table cell (vectorised)."""
    x = np.asarray(x, dtype=np.float32)
    index = np.clip(((x + MAX_SIGMOID) * (SIGMOID_TABLE_SIZE / MAX_SIGMOID / 2)).astype(np.int64), 0, SIGMOID_TABLE_SIZE)
    out = SIGMOID_TABLE[index]
    return np.where(x < -MAX_SIGMOID, np.float32(0.0), np.where(x > MAX_SIGMOID, np.float32(1.0), out)).astype(np.float32)


# ---- reference -------------------------------------------------------------------------------


def _ref_sigmoid(x: float) -> float:
    if x < -MAX_SIGMOID:
        return 0.0
    if x > MAX_SIGMOID:
        return 1.0
    return float(SIGMOID_TABLE[int((x + MAX_SIGMOID) * (SIGMOID_TABLE_SIZE / MAX_SIGMOID / 2))])


def _ref_binary(hidden, grad, wout, row, label, lr) -> float:
    score = _ref_sigmoid(float(np.dot(wout[row].astype(np.float64), hidden)))
    alpha = lr * (label - score)
    grad += alpha * wout[row].astype(np.float64)
    wout[row] += np.float32(alpha) * hidden.astype(np.float32)
    return -math.log((score if label else 1.0 - score) + LOG_FLOOR)


def train_examples_reference(order, row_offsets, rows, label_offsets, labels, weights, win, wout, loss_kind, neg, neg_table, lr0, done, total, seed, path_offsets, path_nodes, path_codes):
    """Plain-Python twin of `train_examples` (float64 scratch, same draws); returns (loss sum, examples)."""
    state = seed
    dim = win.shape[1]
    loss, seen = 0.0, 0
    for e in order:
        lo, hi = row_offsets[e], row_offsets[e + 1]
        llo, lhi = label_offsets[e], label_offsets[e + 1]
        lr = lr0 * (1.0 - done / total)
        done += weights[e]
        if hi == lo or lhi == llo:
            continue
        hidden = win[rows[lo:hi]].astype(np.float64).mean(axis=0)
        grad = np.zeros(dim)
        if loss_kind == SOFTMAX:
            state = reference.lcg_next(state)
            target = labels[llo + reference.draw_bits(state) % (lhi - llo)]
            scores = wout.astype(np.float64) @ hidden
            probs = np.exp(scores - scores.max())
            probs /= probs.sum()
            for i in range(wout.shape[0]):
                alpha = lr * ((1.0 if i == target else 0.0) - probs[i])
                grad += alpha * wout[i].astype(np.float64)
                wout[i] += np.float32(alpha) * hidden.astype(np.float32)
            loss += -math.log(probs[target] + LOG_FLOOR)
        elif loss_kind == OVA:
            mine = set(labels[llo:lhi].tolist())
            for i in range(wout.shape[0]):
                loss += _ref_binary(hidden, grad, wout, i, 1.0 if i in mine else 0.0, lr)
        elif loss_kind == HS:
            state = reference.lcg_next(state)
            target = labels[llo + reference.draw_bits(state) % (lhi - llo)]
            for j in range(path_offsets[target], path_offsets[target + 1]):
                loss += _ref_binary(hidden, grad, wout, path_nodes[j], float(path_codes[j]), lr)
        else:
            state = reference.lcg_next(state)
            target = labels[llo + reference.draw_bits(state) % (lhi - llo)]
            loss += _ref_binary(hidden, grad, wout, target, 1.0, lr)
            if wout.shape[0] > 1:
                for _ in range(neg):
                    while True:
                        state = reference.lcg_next(state)
                        other = int(np.searchsorted(neg_table, reference.draw_bits(state) % NEGATIVE_DOMAIN, side="right"))
                        if other != target:
                            break
                    loss += _ref_binary(hidden, grad, wout, other, 0.0, lr)
        grad *= 1.0 / (hi - lo)
        for r in rows[lo:hi]:
            win[r] += grad.astype(np.float32)
        seen += 1
    return loss, seen


# ---- kernel ----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _sigmoid(x: float, table: np.ndarray) -> float:
    if x < -8.0:
        return 0.0
    if x > 8.0:
        return 1.0
    return table[np.int64((x + 8.0) * 32.0)]


@njit(cache=True, nogil=True)
def _binary(hidden, grad, wout, row, label, lr, table) -> float:
    dim = hidden.shape[0]
    dot = 0.0
    for d in range(dim):
        dot += wout[row, d] * hidden[d]
    score = _sigmoid(dot, table)
    alpha = lr * (label - score)
    for d in range(dim):
        grad[d] += alpha * wout[row, d]
    a32 = np.float32(alpha)
    for d in range(dim):
        wout[row, d] += a32 * np.float32(hidden[d])
    if label > 0.5:
        return -math.log(score + 1e-5)
    return -math.log(1.0 - score + 1e-5)


@njit(cache=True, nogil=True)
def train_examples(order, row_offsets, rows, label_offsets, labels, weights, win, wout, loss_kind, neg, neg_table, lr0, done, total, seed, table, path_offsets, path_nodes, path_codes):
    """Train on examples `order` (indices into the CSR arrays) in place; returns (loss sum, examples used).

    `done` tokens precede this chunk in the run and `total` is the run's token count (for the
    learning-rate decay); see the module docstring for the update.
    """
    state = np.uint64(seed)
    dim = win.shape[1]
    nout = wout.shape[0]
    hidden = np.zeros(dim, dtype=np.float64)
    grad = np.zeros(dim, dtype=np.float64)
    scores = np.zeros(nout, dtype=np.float64)
    loss = 0.0
    seen = 0
    for t in range(order.shape[0]):
        e = order[t]
        lo, hi = row_offsets[e], row_offsets[e + 1]
        llo, lhi = label_offsets[e], label_offsets[e + 1]
        lr = lr0 * (1.0 - done / total)
        done += weights[e]
        if hi == lo or lhi == llo:
            continue
        hidden[:] = 0.0
        grad[:] = 0.0
        for k in range(lo, hi):
            r = rows[k]
            for d in range(dim):
                hidden[d] += win[r, d]
        inv = 1.0 / (hi - lo)
        for d in range(dim):
            hidden[d] *= inv
        if loss_kind == 0:
            state = lcg_next(state)
            target = labels[llo + draw_bits(state) % (lhi - llo)]
            top = -1e300
            for i in range(nout):
                s = 0.0
                for d in range(dim):
                    s += wout[i, d] * hidden[d]
                scores[i] = s
                if s > top:
                    top = s
            z = 0.0
            for i in range(nout):
                scores[i] = math.exp(scores[i] - top)
                z += scores[i]
            for i in range(nout):
                p = scores[i] / z
                alpha = lr * ((1.0 if i == target else 0.0) - p)
                for d in range(dim):
                    grad[d] += alpha * wout[i, d]
                a32 = np.float32(alpha)
                for d in range(dim):
                    wout[i, d] += a32 * np.float32(hidden[d])
            loss += -math.log(scores[target] / z + 1e-5)
        elif loss_kind == 1:
            for i in range(nout):
                label = 0.0
                for j in range(llo, lhi):
                    if labels[j] == i:
                        label = 1.0
                loss += _binary(hidden, grad, wout, i, label, lr, table)
        elif loss_kind == 3:
            state = lcg_next(state)
            target = labels[llo + draw_bits(state) % (lhi - llo)]
            for j in range(path_offsets[target], path_offsets[target + 1]):
                loss += _binary(hidden, grad, wout, path_nodes[j], np.float64(path_codes[j]), lr, table)
        else:
            state = lcg_next(state)
            target = labels[llo + draw_bits(state) % (lhi - llo)]
            loss += _binary(hidden, grad, wout, target, 1.0, lr, table)
            if nout > 1:
                for _ in range(neg):
                    while True:
                        state = lcg_next(state)
                        other = bisect_right(neg_table, draw_bits(state) % 2147483647)
                        if other != target:
                            break
                    loss += _binary(hidden, grad, wout, other, 0.0, lr, table)
        for k in range(lo, hi):
            r = rows[k]
            for d in range(dim):
                win[r, d] += np.float32(grad[d] * inv)
        seen += 1
    return loss, seen
