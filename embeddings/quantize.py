"""Product quantization of a fastText model (`.ftz`), with retraining-free pruning to a row cutoff.

    small = model.quantize(cutoff=50_000, dsub=2, qnorm=True)   # SupervisedModel.quantize
    small.save("model.ftz")

Pruning keeps the `cutoff` input rows (words and n-gram buckets) with the largest norms, `</s>`
always, as fastText's `quantize -cutoff` selects them; the dictionary drops the other words and
a bucket map (`pruneidx`) sends each kept bucket to its new row. Each row is then cut into
sub-vectors of `dsub` floats (the last may be shorter) and every sub-vector position gets its
own 256-centroid k-means codebook, so a row is stored as one byte per sub-vector. With `qnorm`
rows are normalised first and their norms quantized by a 1-D codebook of their own.
Time: O(iterations * sampled rows * 256 * dim); memory: the dense matrix plus one distance block.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.embeddings.fasttext_format import EOS, KSUB, FastTextModel, ProductQuantizer, QuantMatrix

MAX_POINTS = 256 * 256  # rows sampled to fit each codebook, as fastText samples
ITERATIONS = 25


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iterations: int = ITERATIONS) -> np.ndarray:
    """k centroids of `points` (n, d) by Lloyd's algorithm from k distinct random points.

    With fewer than k points the points repeat to fill the codebook. An emptied cluster takes a
    random point, so every centroid stays in use. Returns float32 (k, d).
    """
    points = np.asarray(points, dtype=np.float32)
    n = points.shape[0]
    start = rng.permutation(n)[:k] if n >= k else np.resize(rng.permutation(n), k)
    centroids = points[start].copy()
    for _ in range(iterations):
        assign = nearest(points, centroids)
        sizes = np.bincount(assign, minlength=k)
        sums = np.stack([np.bincount(assign, weights=points[:, j], minlength=k) for j in range(points.shape[1])], axis=1)
        filled = sizes > 0
        centroids[filled] = (sums[filled] / sizes[filled, None]).astype(np.float32)
        empty = np.flatnonzero(~filled)
        if empty.size:
            centroids[empty] = points[rng.integers(0, n, size=empty.size)]
    return centroids


def nearest_reference(points: np.ndarray, centroids: np.ndarray, block: int = 8192) -> np.ndarray:
    """Index of the nearest centroid (squared L2) for each point, in blocks of `block` points (numpy).

    Sub-vectors are a few floats wide, so the distances are summed coordinate by coordinate
    (a matrix product with an inner size of 2 is slower than this).
    """
    points = np.asarray(points, dtype=np.float32)
    centroids = np.asarray(centroids, dtype=np.float32)
    out = np.empty(points.shape[0], dtype=np.int64)
    for lo in range(0, points.shape[0], block):
        chunk = points[lo : lo + block]
        dist = np.zeros((chunk.shape[0], centroids.shape[0]), dtype=np.float32)
        for j in range(points.shape[1]):
            diff = chunk[:, j, None] - centroids[None, :, j]
            dist += diff * diff
        out[lo : lo + block] = np.argmin(dist, axis=1)
    return out


@njit(cache=True, nogil=True)
def _nearest_kernel(points: np.ndarray, centroids: np.ndarray, out: np.ndarray) -> None:
    for i in range(points.shape[0]):
        best = np.inf
        arg = 0
        for c in range(centroids.shape[0]):
            dist = np.float32(0.0)
            for j in range(points.shape[1]):
                diff = points[i, j] - centroids[c, j]
                dist += diff * diff
            if dist < best:
                best = dist
                arg = c
        out[i] = arg


def nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """`nearest_reference` on a numba kernel (the first of equally near centroids, as argmin)."""
    out = np.empty(points.shape[0], dtype=np.int64)
    _nearest_kernel(np.ascontiguousarray(points, dtype=np.float32), np.ascontiguousarray(centroids, dtype=np.float32), out)
    return out


def train_pq(matrix: np.ndarray, dsub: int, rng: np.random.Generator, max_points: int = MAX_POINTS) -> tuple[ProductQuantizer, np.ndarray]:
    """Fit a product quantizer to `matrix` (rows, dim) and encode it: (quantizer, uint8 codes (rows, nsubq))."""
    rows, dim = matrix.shape
    nsubq, lastdsub = ProductQuantizer.shape_for(dim, dsub)
    centroids = np.zeros(dim * KSUB, dtype=np.float32)
    codes = np.zeros((rows, nsubq), dtype=np.uint8)
    sample = matrix if rows <= max_points else matrix[rng.choice(rows, size=max_points, replace=False)]
    for m in range(nsubq):
        lo = m * dsub
        width = lastdsub if m == nsubq - 1 else dsub
        book = kmeans(sample[:, lo : lo + width], KSUB, rng)
        centroids[m * KSUB * dsub : m * KSUB * dsub + KSUB * width] = book.ravel()
        codes[:, m] = nearest(np.ascontiguousarray(matrix[:, lo : lo + width]), book)
    return ProductQuantizer(dim, nsubq, dsub, lastdsub, centroids), codes


def quantize_matrix(matrix: np.ndarray, dsub: int, qnorm: bool, rng: np.random.Generator) -> QuantMatrix:
    """A QuantMatrix of `matrix`; with qnorm the norms get a 1-D quantizer and rows are normalised first."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norm_codes = npq = None
    if qnorm:
        norms = np.linalg.norm(matrix, axis=1).astype(np.float32)
        npq, codes_n = train_pq(norms[:, None], 1, rng)
        norm_codes = codes_n[:, 0]
        matrix = matrix / np.where(norms > 0, norms, 1.0)[:, None]
    pq, codes = train_pq(matrix, dsub, rng)
    return QuantMatrix(matrix.shape[0], matrix.shape[1], codes, pq, norm_codes, npq)


def select_rows(matrix: np.ndarray, cutoff: int, eos: int) -> np.ndarray:
    """The `cutoff` rows of largest L2 norm, `eos` (if >= 0) first, as fastText's selectEmbeddings."""
    norms = np.linalg.norm(matrix, axis=1)
    order = np.argsort(-norms, kind="stable")
    if eos >= 0:
        order = np.concatenate([[eos], order[order != eos]])
    return order[:cutoff]


def prune(model: FastTextModel, keep: np.ndarray) -> FastTextModel:
    """Keep input rows `keep`: the kept words (in dictionary order) and every label, then the kept
    buckets in the order given, mapped through `pruneidx`. The output matrix is unchanged."""
    nwords = model.nwords
    dense = np.asarray(model.input)
    kept_words = np.sort(keep[keep < nwords])
    kept_buckets = keep[keep >= nwords] - nwords
    entries = np.concatenate([kept_words, np.flatnonzero(model.types == 1)])
    words = [model.words[i] for i in entries]
    rows = np.concatenate([dense[kept_words], dense[nwords + kept_buckets]]) if kept_buckets.size else dense[kept_words]
    pruneidx = {int(b): j for j, b in enumerate(kept_buckets.tolist())}
    return FastTextModel(model.args, words, model.counts[entries], model.types[entries], model.ntokens, rows, model.output, pruneidx, model.version)


def quantize_model(model: FastTextModel, cutoff: int = 0, dsub: int = 2, qnorm: bool = False, qout: bool = False, seed: int = 1) -> FastTextModel:
    """A quantized (and, with 0 < cutoff < input rows, pruned) copy of a dense fastText model."""
    if isinstance(model.input, QuantMatrix):
        raise ValueError("the model is quantized already")
    if dsub < 1:
        raise ValueError(f"dsub must be >= 1, got {dsub}")
    rng = np.random.default_rng(seed)
    dense = np.asarray(model.input, dtype=np.float32)
    if 0 < cutoff < dense.shape[0]:
        eos = model.word_index().get(EOS, -1)
        model = prune(model, select_rows(dense, cutoff, eos if 0 <= eos < model.nwords else -1))
        dense = np.asarray(model.input, dtype=np.float32)
    quantized_input = quantize_matrix(dense, dsub, qnorm, rng)
    output = quantize_matrix(np.asarray(model.output), 2, qnorm, rng) if qout else model.output
    return FastTextModel(model.args, model.words, model.counts, model.types, model.ntokens, quantized_input, output, model.pruneidx, model.version)
