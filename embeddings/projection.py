"""2-D projections of a few word vectors for plots: PCA, and a small exact t-SNE in NumPy.

Both are meant for tens to a few hundred words (t-SNE is O(n^2) in time and memory).
"""

from __future__ import annotations

import numpy as np


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Coordinates on the two leading principal components (n x 2)."""
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0)
    _, _, components = np.linalg.svd(x, full_matrices=False)
    out = x @ components[:2].T
    return np.pad(out, ((0, 0), (0, 2 - out.shape[1]))) if out.shape[1] < 2 else out


def _conditional_probabilities(distances: np.ndarray, perplexity: float) -> np.ndarray:
    """Row-wise Gaussian affinities whose entropy matches log(perplexity), by bisection on the precision."""
    n = distances.shape[0]
    target = np.log(perplexity)
    p = np.zeros((n, n))
    for i in range(n):
        d = np.delete(distances[i], i)
        lo, hi, beta = 0.0, np.inf, 1.0
        for _ in range(64):
            w = np.exp(-(d - d.min()) * beta)
            row = w / w.sum()
            entropy = -(row * np.log(np.maximum(row, 1e-300))).sum()
            if abs(entropy - target) < 1e-5:
                break
            if entropy > target:
                lo, beta = beta, beta * 2 if hi == np.inf else (beta + hi) / 2
            else:
                hi, beta = beta, (beta + lo) / 2
        p[i, np.arange(n) != i] = row
    return p


def tsne_2d(vectors: np.ndarray, perplexity: float = 30.0, iterations: int = 500, seed: int = 0) -> np.ndarray:
    """Exact t-SNE to 2-D (gradient descent with momentum and early exaggeration)."""
    x = np.asarray(vectors, dtype=np.float64)
    n = x.shape[0]
    if n < 3:
        return pca_2d(x)
    perplexity = min(perplexity, (n - 1) / 3)
    squared = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    p = _conditional_probabilities(squared, perplexity)
    p = np.maximum((p + p.T) / (2 * n), 1e-12)
    y = np.random.default_rng(seed).normal(scale=1e-4, size=(n, 2))
    velocity = np.zeros_like(y)
    learning_rate = max(n / 48.0, 50.0)  # sklearn's "auto" rule: n / exaggeration / 4
    for step in range(iterations):
        exaggeration = 12.0 if step < 100 else 1.0
        diff = y[:, None, :] - y[None, :, :]
        kernel = 1.0 / (1.0 + (diff**2).sum(-1))
        np.fill_diagonal(kernel, 0.0)
        q = np.maximum(kernel / kernel.sum(), 1e-12)
        grad = 4 * (((exaggeration * p - q) * kernel)[:, :, None] * diff).sum(axis=1)
        velocity = (0.5 if step < 250 else 0.8) * velocity - learning_rate * grad
        y += velocity
    return y - y.mean(axis=0)
