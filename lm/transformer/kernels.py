"""numba kernels for the CPU path; each has a plain twin in `reference.py` and is tested against it.

Versions: 1 = this file. Attention is FlashAttention's algorithm on a CPU: one task per (batch,
head) row stream, keys visited in tiles of `TILE` with an online softmax (running max and sum,
the accumulator rescaled), never a (T, T) buffer; its backward recomputes probabilities from the
saved log-sum-exp, one task per (batch, KV head) so that dK and dV have one writer. Reductions
across rows (norm weight gradients, squared norms) sum fixed chunks in a fixed order, so results
do not depend on the thread count: training on the CPU is bitwise reproducible.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from corpuskit.lm.transformer.ops import prefer_workqueue

prefer_workqueue()

TILE = 64  # keys per online-softmax tile: scores of one tile live in a small stack buffer
CHUNKS = 32  # fixed number of partial sums for cross-row reductions (deterministic)


# -- norms -------------------------------------------------------------------------------------------
@njit(parallel=True, cache=True)
def rms_norm_forward(x, w, eps, y, rstd):  # noqa: ANN001 - numba kernels take arrays
    """y = x * rstd * w row-wise, rstd = 1/sqrt(mean(x²)+eps); x (N, C)."""
    n, c = x.shape
    for i in prange(n):
        acc = 0.0
        for j in range(c):
            acc += x[i, j] * x[i, j]
        r = 1.0 / math.sqrt(acc / c + eps)
        rstd[i] = r
        for j in range(c):
            y[i, j] = x[i, j] * r * w[j]


@njit(parallel=True, cache=True)
def rms_norm_backward(x, w, rstd, dy, dx, partial):  # noqa: ANN001
    """dx row-wise; partial (CHUNKS, C) gets each chunk's share of dw (summed by the caller)."""
    n, c = x.shape
    chunks = partial.shape[0]
    per = (n + chunks - 1) // chunks
    for ch in prange(chunks):
        for j in range(c):
            partial[ch, j] = 0.0
        for i in range(ch * per, min(n, (ch + 1) * per)):
            r = rstd[i]
            dot = 0.0
            for j in range(c):
                xhat = x[i, j] * r
                dot += dy[i, j] * w[j] * xhat
                partial[ch, j] += dy[i, j] * xhat
            dot /= c
            for j in range(c):
                dx[i, j] = r * (dy[i, j] * w[j] - x[i, j] * r * dot)


@njit(parallel=True, cache=True)
def sum_squares(x):  # noqa: ANN001
    """Sum of squares of a flat array in float64, fixed chunks (deterministic)."""
    n = x.shape[0]
    per = (n + CHUNKS - 1) // CHUNKS
    partial = np.zeros(CHUNKS)
    for ch in prange(CHUNKS):
        acc = 0.0
        for i in range(ch * per, min(n, (ch + 1) * per)):
            acc += x[i] * x[i]
        partial[ch] = acc
    return partial.sum()


# -- RoPE -------------------------------------------------------------------------------------------------
@njit(parallel=True, cache=True)
def rope(x, positions, cos, sin, sign, out):  # noqa: ANN001
    """Half-rotation RoPE of x (B, T, H, D) at positions (B, T); sign=-1 rotates back (the backward)."""
    bsz, t, h, d = x.shape
    half = d // 2
    for bt in prange(bsz * t):
        b = bt // t
        i = bt % t
        p = positions[b, i]
        for hh in range(h):
            for j in range(half):
                c = cos[p, j]
                s = sign * sin[p, j]
                x1 = x[b, i, hh, j]
                x2 = x[b, i, hh, j + half]
                out[b, i, hh, j] = x1 * c - x2 * s
                out[b, i, hh, j + half] = x2 * c + x1 * s


# -- attention ----------------------------------------------------------------------------------------------
@njit(parallel=True, cache=True, fastmath={"contract", "arcp", "nsz", "reassoc"})
def attention_forward(q, k, v, causal, scale, key_mask, use_mask, o, lse):  # noqa: ANN001
    """Online-softmax attention; q (B, Tq, Hq, D), k/v (B, Tk, Hkv, D), key_mask (B, Tk) if use_mask.

    Writes o (B, Tq, Hq, D) and lse (B, Hq, Tq). Memory per task: D + TILE floats.
    """
    bsz, tq, hq, d = q.shape
    tk = k.shape[1]
    group = hq // k.shape[2]
    offset = tk - tq
    for task in prange(bsz * hq):
        b = task // hq
        h = task % hq
        hk = h // group
        acc = np.empty(d, dtype=np.float32)
        qi = np.empty(d, dtype=np.float32)
        s = np.empty(TILE, dtype=np.float32)
        for i in range(tq):
            end = min(tk, i + offset + 1) if causal else tk
            for dd in range(d):
                qi[dd] = q[b, i, h, dd] * scale
                acc[dd] = 0.0
            m = -np.inf
            total = 0.0
            for j0 in range(0, end, TILE):
                j1 = min(j0 + TILE, end)
                tile_max = -np.inf
                for j in range(j0, j1):
                    if use_mask and not key_mask[b, j]:
                        s[j - j0] = -np.inf
                        continue
                    dot = np.float32(0.0)
                    for dd in range(d):
                        dot += qi[dd] * k[b, j, hk, dd]
                    s[j - j0] = dot
                    if dot > tile_max:
                        tile_max = dot
                if tile_max == -np.inf:
                    continue
                new_m = max(m, tile_max)
                if m != -np.inf and new_m != m:
                    corr = math.exp(m - new_m)
                    total *= corr
                    for dd in range(d):
                        acc[dd] *= corr
                m = new_m
                for j in range(j0, j1):
                    if s[j - j0] == -np.inf:
                        continue
                    p = np.float32(math.exp(s[j - j0] - m))
                    total += p
                    for dd in range(d):
                        acc[dd] += p * v[b, j, hk, dd]
            if total == 0.0:
                for dd in range(d):
                    o[b, i, h, dd] = 0.0
                lse[b, h, i] = -np.inf
            else:
                inv = 1.0 / total
                for dd in range(d):
                    o[b, i, h, dd] = acc[dd] * inv
                lse[b, h, i] = m + math.log(total)


@njit(parallel=True, cache=True, fastmath={"contract", "arcp", "nsz", "reassoc"})
def attention_backward(q, k, v, o, lse, do, causal, scale, key_mask, use_mask, dq, dk, dv):  # noqa: ANN001
    """Gradients of attention_forward; dk and dv must come in zeroed. One task per (batch, KV head)."""
    bsz, tq, hq, d = q.shape
    tk, hkv = k.shape[1], k.shape[2]
    group = hq // hkv
    offset = tk - tq
    for task in prange(bsz * hkv):
        b = task // hkv
        hk = task % hkv
        dqi = np.empty(d, dtype=np.float32)
        for h in range(hk * group, (hk + 1) * group):
            for i in range(tq):
                row_lse = lse[b, h, i]
                if row_lse == -np.inf:
                    for dd in range(d):
                        dq[b, i, h, dd] = 0.0
                    continue
                end = min(tk, i + offset + 1) if causal else tk
                delta = np.float32(0.0)
                for dd in range(d):
                    delta += do[b, i, h, dd] * o[b, i, h, dd]
                    dqi[dd] = 0.0
                for j in range(end):
                    if use_mask and not key_mask[b, j]:
                        continue
                    sc = np.float32(0.0)
                    dp = np.float32(0.0)
                    for dd in range(d):
                        sc += q[b, i, h, dd] * k[b, j, hk, dd]
                        dp += do[b, i, h, dd] * v[b, j, hk, dd]
                    p = np.float32(math.exp(sc * scale - row_lse))
                    ds = p * (dp - delta)
                    dss = ds * scale
                    for dd in range(d):
                        dqi[dd] += dss * k[b, j, hk, dd]
                        dk[b, j, hk, dd] += dss * q[b, i, h, dd]
                        dv[b, j, hk, dd] += p * do[b, i, h, dd]
                for dd in range(d):
                    dq[b, i, h, dd] = dqi[dd]


# -- MLP activations and loss ----------------------------------------------------------------------------------
@njit(parallel=True, cache=True)
def swiglu_forward(gu, out):  # noqa: ANN001
    """out = silu(g) * u for gu = [g | u]: (N, 2F) -> (N, F)."""
    n, f = out.shape
    for i in prange(n):
        for j in range(f):
            g = gu[i, j]
            out[i, j] = g / (1.0 + math.exp(-g)) * gu[i, f + j]


@njit(parallel=True, cache=True)
def swiglu_backward(gu, ds, dgu):  # noqa: ANN001
    """Gradient of swiglu_forward with respect to gu = [g | u], into dgu (N, 2F)."""
    n, f = ds.shape
    for i in prange(n):
        for j in range(f):
            g = gu[i, j]
            u = gu[i, f + j]
            sig = 1.0 / (1.0 + math.exp(-g))
            dgu[i, j] = ds[i, j] * u * sig * (1.0 + g * (1.0 - sig))
            dgu[i, f + j] = ds[i, j] * g * sig


@njit(parallel=True, cache=True, fastmath={"contract", "arcp", "nsz", "reassoc"})
def cross_entropy(logits, targets, ignore_index, count, losses):  # noqa: ANN001
    """Per-row softmax cross-entropy into losses (N,); logits become the gradient (softmax - onehot) / count.

    Ignored rows get loss 0 and gradient 0. One exp per logit: exp(x - max) is stored in place,
    then scaled by 1 / (sum · count) (fused: the logits are read and written once more each).
    """
    n, vocab = logits.shape
    for i in prange(n):
        t = targets[i]
        if t == ignore_index:
            losses[i] = 0.0
            for j in range(vocab):
                logits[i, j] = 0.0
            continue
        m = logits[i, 0]
        for j in range(1, vocab):
            m = max(m, logits[i, j])
        target_logit = logits[i, t]
        total = 0.0
        for j in range(vocab):
            e = math.exp(logits[i, j] - m)
            logits[i, j] = e
            total += e
        losses[i] = m + math.log(total) - target_logit
        scale = 1.0 / (total * count)
        for j in range(vocab):
            logits[i, j] *= scale
        logits[i, t] -= 1.0 / count


@njit(parallel=True, cache=True)
def log_softmax_rows(logits, out):  # noqa: ANN001
    """Natural-log softmax of each row into out (float64)."""
    n, vocab = logits.shape
    for i in prange(n):
        m = -np.inf
        for j in range(vocab):
            if logits[i, j] > m:
                m = logits[i, j]
        total = 0.0
        for j in range(vocab):
            total += math.exp(logits[i, j] - m)
        row_lse = m + math.log(total)
        for j in range(vocab):
            out[i, j] = logits[i, j] - row_lse


# -- embeddings and optimiser -----------------------------------------------------------------------------------
@njit(cache=True)
def embedding_backward(ids, dx, dwte):  # noqa: ANN001
    """dwte[ids[i]] += dx[i] (serial: repeated ids would race)."""
    for i in range(ids.shape[0]):
        row = ids[i]
        for j in range(dx.shape[1]):
            dwte[row, j] += dx[i, j]


@njit(parallel=True, cache=True)
def adamw_step(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step):  # noqa: ANN001
    """Fused AdamW over flat float32 arrays, in place (moments and parameters read and written once)."""
    c1 = 1.0 - beta1**step
    c2 = 1.0 - beta2**step
    for i in prange(p.shape[0]):
        gi = g[i]
        mi = beta1 * m[i] + (1.0 - beta1) * gi
        vi = beta2 * v[i] + (1.0 - beta2) * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] -= lr * ((mi / c1) / (math.sqrt(vi / c2) + eps) + weight_decay * p[i])
