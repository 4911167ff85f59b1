"""Numba kernels for word2vec and fastText training (skip-gram/CBOW x negative sampling/hierarchical softmax).

One kernel serves both models: a word's input vector is the mean of its subword rows, where for
word2vec each word has exactly one subword (itself) and for fastText the word's row plus its
hashed character n-gram rows. The plain-Python twin of every function is in
`corpuskit.embeddings.reference`; tests compare them on small random problems.

Versions of the update (all in `train_chunk`):
  1. sg=1, predict_center=0: hidden = mean(input rows of the centre word); predict each context
     word in turn and add the gradient to every centre row after each prediction (fastText's
     order). predict_center=1: each context word's rows predict the centre word (word2vec.c's
     order, which keeps the centre's Huffman path or output row hot in cache).
  2. sg=0: hidden = mean(input rows of all context words); predict the centre word once and add
     the gradient, unscaled, to every context row (word2vec.c's CBOW update).
  hs=1 walks the Huffman path of the target; hs=0 draws `negative` words from the unigram^0.75
  table (a draw equal to the target is skipped). The logistic function and the loss come from
  word2vec.c's tables (`corpuskit.embeddings.sigmoid`), scores clipped to +-6 (beyond, the
  probability is 0 or 1; gensim skips those hierarchical-softmax updates instead). Randomness is
  word2vec.c's 64-bit LCG seeded per chunk, so one worker and one seed reproduce a run exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.embeddings.sigmoid import MAX_EXP, NEG_LOG_SIGMOID_TABLE, SCALE, SIGMOID_TABLE

LCG_MULTIPLIER = np.uint64(25214903917)
LCG_INCREMENT = np.uint64(11)
KEEP_ALL = np.int64(2**32)


@njit(cache=True, nogil=True)
def lcg_next(state: np.uint64) -> np.uint64:
    """word2vec.c's generator: state * 25214903917 + 11 modulo 2**64."""
    return state * LCG_MULTIPLIER + LCG_INCREMENT


@njit(cache=True, nogil=True)
def draw_bits(state: np.uint64) -> np.int64:
    """32 random bits taken from the middle of the LCG state."""
    return np.int64((state >> np.uint64(16)) & np.uint64(0xFFFFFFFF))


@njit(cache=True, nogil=True)
def bisect_right(table: np.ndarray, value: np.int64) -> np.int64:
    """First index k with table[k] > value (table ascending)."""
    lo = 0
    hi = table.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if table[mid] > value:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True, fastmath=True)
def output_step(hidden, grad, wout, row, label, alpha):
    """One logistic output: update wout[row] and accumulate the hidden gradient; return the loss.

    P(label) uses the sigmoid table; beyond +-MAX_EXP the probability is 0 or 1 and the loss of
    a wrong side is |score| (its asymptote).
    """
    dim = hidden.shape[0]
    score = np.float32(0.0)
    for k in range(dim):
        score += hidden[k] * wout[row, k]
    if score >= MAX_EXP:
        prob = np.float32(1.0)
        loss = score if label < 0.5 else np.float32(0.0)
    elif score <= -MAX_EXP:
        prob = np.float32(0.0)
        loss = -score if label > 0.5 else np.float32(0.0)
    else:
        cell = int((score + MAX_EXP) * SCALE)
        prob = SIGMOID_TABLE[cell]
        loss = NEG_LOG_SIGMOID_TABLE[cell] if label > 0.5 else NEG_LOG_SIGMOID_TABLE[999 - cell]
    g = np.float32((label - prob) * alpha)
    for k in range(dim):
        grad[k] += g * wout[row, k]
        wout[row, k] += g * hidden[k]
    return float(loss)


@njit(cache=True, nogil=True, fastmath=True)
def predict_target(hidden, grad, wout, target, cum_table, hs_offsets, hs_points, hs_codes, hs, negative, alpha, state):
    """All output updates for one target word; returns (loss, outputs touched, new rng state)."""
    loss = 0.0
    touched = 0
    if hs:
        for p in range(hs_offsets[target], hs_offsets[target + 1]):
            loss += output_step(hidden, grad, wout, hs_points[p], 1.0 - hs_codes[p], alpha)
            touched += 1
        return loss, touched, state
    loss += output_step(hidden, grad, wout, target, 1.0, alpha)
    touched += 1
    domain = cum_table[cum_table.shape[0] - 1]
    for _ in range(negative):
        state = lcg_next(state)
        sample = bisect_right(cum_table, draw_bits(state) % domain)
        if sample == target:
            continue
        loss += output_step(hidden, grad, wout, sample, 0.0, alpha)
        touched += 1
    return loss, touched, state


@njit(cache=True, nogil=True, fastmath=True, inline="always")
def add_rows(win, sub_ids, first, last, hidden):
    """hidden += the input rows sub_ids[first:last] (a word's own row plus its n-gram buckets)."""
    for s in range(first, last):
        row = sub_ids[s]
        for k in range(hidden.shape[0]):
            hidden[k] += win[row, k]


@njit(cache=True, nogil=True, fastmath=True, inline="always")
def update_rows(win, sub_ids, first, last, grad):
    """Input rows sub_ids[first:last] += grad (the gradient reaching the averaged hidden layer)."""
    for s in range(first, last):
        row = sub_ids[s]
        for k in range(grad.shape[0]):
            win[row, k] += grad[k]


@njit(cache=True, nogil=True, fastmath=True)
def train_chunk(
    ids, win, wout, sub_offsets, sub_ids, keep, cum_table, hs_offsets, hs_points, hs_codes, sg, predict_center, hs, negative,
    window, alpha, seed
):
    """Train on one slice of the id stream (ids >= 0 words, -1 sentence ends) in place.

    Returns (summed loss, output predictions made, vocabulary words read before sub-sampling).
    """
    dim = win.shape[1]
    hidden = np.zeros(dim, dtype=np.float32)
    grad = np.zeros(dim, dtype=np.float32)
    sentence = np.empty(ids.shape[0], dtype=np.int32)
    state = np.uint64(seed)
    loss = 0.0
    predictions = 0
    words = 0
    pos = 0
    n = ids.shape[0]
    while pos < n:
        length = 0
        while pos < n and ids[pos] >= 0:
            word = ids[pos]
            pos += 1
            words += 1
            state = lcg_next(state)
            if keep[word] < KEEP_ALL and draw_bits(state) >= keep[word]:
                continue
            sentence[length] = word
            length += 1
        pos += 1
        for i in range(length):
            state = lcg_next(state)
            reach = window - np.int64((state >> np.uint64(16)) % np.uint64(window))
            lo = max(0, i - reach)
            hi = min(length, i + reach + 1)
            center = sentence[i]
            if sg:
                for j in range(lo, hi):
                    if j == i:
                        continue
                    source = sentence[j] if predict_center else center
                    target = center if predict_center else sentence[j]
                    first = sub_offsets[source]
                    last = sub_offsets[source + 1]
                    hidden[:] = 0.0
                    add_rows(win, sub_ids, first, last, hidden)
                    if last - first > 1:
                        scale = np.float32(1.0 / (last - first))
                        for k in range(dim):
                            hidden[k] *= scale
                    grad[:] = 0.0
                    step_loss, touched, state = predict_target(
                        hidden, grad, wout, target, cum_table, hs_offsets, hs_points, hs_codes, hs, negative, alpha, state
                    )
                    loss += step_loss
                    predictions += touched
                    update_rows(win, sub_ids, first, last, grad)
            else:
                hidden[:] = 0.0
                count = 0
                for j in range(lo, hi):
                    if j == i:
                        continue
                    word = sentence[j]
                    add_rows(win, sub_ids, sub_offsets[word], sub_offsets[word + 1], hidden)
                    count += sub_offsets[word + 1] - sub_offsets[word]
                if count == 0:
                    continue
                scale = np.float32(1.0 / count)
                for k in range(dim):
                    hidden[k] *= scale
                grad[:] = 0.0
                step_loss, touched, state = predict_target(
                    hidden, grad, wout, center, cum_table, hs_offsets, hs_points, hs_codes, hs, negative, alpha, state
                )
                loss += step_loss
                predictions += touched
                for j in range(lo, hi):
                    if j == i:
                        continue
                    word = sentence[j]
                    update_rows(win, sub_ids, sub_offsets[word], sub_offsets[word + 1], grad)
    return loss, predictions, words
