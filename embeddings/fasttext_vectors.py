"""Word vectors from a Facebook fastText `.bin`/`.ftz` model, and fastText models from subword vectors.

Reading: the input matrix holds one row per word, then `bucket` n-gram rows. A word's vector is
the mean of its own row and its character n-gram rows, computed for every word as
`gensim.models.fasttext.load_facebook_model` does (gensim gives `</s>` its n-grams too, fastText
itself does not); the n-gram rows are kept, so unknown words get the mean of their n-gram rows.
Quantized models are decoded to dense rows first; pruned ones map n-gram buckets through their
bucket map (dropped buckets are skipped, as in fastText). Supervised models give their words (not labels).

Writing: a KeyedVectors with n-gram rows becomes an unsupervised fastText model whose word rows
are recovered from the stored means (row = mean * (1 + n) - sum of n-gram rows), so gensim and
fastText load the same in-vocabulary and OOV vectors. The output matrix is not kept by training
and is written as zeros: the file answers lookups, it does not resume training.
Memory: the input matrix once, plus O(chunk * n-grams per word * dim) while averaging.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corpuskit.embeddings.fasttext_format import Args, FastTextModel, QuantMatrix, read_fasttext, write_fasttext
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.subwords import subword_table
from corpuskit.modelfile import ModelFileError

CHUNK = 4096  # words averaged at once


def read_fasttext_vectors(path: str | Path) -> KeyedVectors:
    """Vectors (in-vocabulary and OOV) of the fastText model at `path`; a foreign file is a ModelFileError."""
    model = read_fasttext(path)
    if not np.array_equal(np.flatnonzero(model.types == 0), np.arange(model.nwords)):
        raise ModelFileError(path, "a fastText dictionary listing words before labels", "labels among the words")
    return model_vectors(model)


def model_vectors(model: FastTextModel) -> KeyedVectors:
    """The word vectors of a fastText model (see the module docstring); pruned models map buckets through `pruneidx`."""
    matrix = model.input.dense() if isinstance(model.input, QuantMatrix) else np.asarray(model.input)
    a, nwords = model.args, model.nwords
    words = model.words[:nwords]
    if not (a.maxn > 0 and a.bucket > 0):
        return KeyedVectors(words, matrix[:nwords], counts=model.counts[:nwords])
    kv = KeyedVectors(
        words, matrix[:nwords], counts=model.counts[:nwords], ngram_vectors=matrix[nwords:], minn=a.minn, maxn=a.maxn,
        bucket_map=model.pruneidx, bucket=a.bucket,
    )
    vectors = np.array(matrix[:nwords], dtype=np.float32)  # own rows; n-gram rows added in order, as gensim
    for start in range(0, nwords, CHUNK):
        grams = [kv.ngram_rows(word) for word in words[start : start + CHUNK]]
        width = max(map(len, grams), default=0)
        table = np.full((len(grams), width), -1, dtype=np.int64)
        for i, rows in enumerate(grams):
            table[i, : len(rows)] = rows
        block = vectors[start : start + len(grams)]
        for k in range(width):  # column by column: each word's float32 sum in the same order as gensim's loop
            has = table[:, k] >= 0
            block[has] += matrix[nwords + table[has, k]]
        block /= np.array([1 + len(rows) for rows in grams], dtype=np.float32)[:, None]
    return KeyedVectors(
        words, vectors, counts=model.counts[:nwords], ngram_vectors=matrix[nwords:], minn=a.minn, maxn=a.maxn,
        bucket_map=model.pruneidx, bucket=a.bucket,
    )


def fasttext_model(kv: KeyedVectors) -> FastTextModel:
    """An unsupervised fastText model holding `kv`'s words and n-gram rows (see the module docstring)."""
    if kv.bucket_map is not None:
        raise ValueError("vectors from a pruned fastText model cannot be written as an unpruned one; save them as .npz")
    if not kv.has_subwords:
        raise ValueError("a fastText .bin needs vectors with character n-gram rows (train with --model fasttext), or save as .vec/.txt/.npz")
    words, ngrams = kv.index_to_key, kv.ngram_vectors
    bucket, dim = ngrams.shape
    rows = np.empty((len(words), dim), dtype=np.float32)
    for start in range(0, len(words), CHUNK):
        chunk = words[start : start + CHUNK]
        offsets, table = subword_table(chunk, kv.minn, kv.maxn, bucket)
        sizes = np.diff(offsets)
        grams = np.where(table < len(chunk), 0, table - len(chunk))
        gram_rows = ngrams[grams] * (table >= len(chunk))[:, None]  # own-row slots contribute nothing
        sums = np.add.reduceat(gram_rows.astype(np.float64), offsets[:-1], axis=0)
        rows[start : start + len(chunk)] = kv.vectors[start : start + len(chunk)].astype(np.float64) * sizes[:, None] - sums
    counts = kv.counts if kv.counts is not None else np.arange(len(words), 0, -1, dtype=np.int64)
    args = Args(dim=dim, loss="ns", model="sg", bucket=bucket, minn=kv.minn, maxn=kv.maxn, min_count=1)
    return FastTextModel(
        args=args,
        words=list(words),
        counts=np.asarray(counts, dtype=np.int64),
        types=np.zeros(len(words), dtype=np.int8),
        ntokens=int(np.sum(counts)),
        input=np.concatenate([rows, ngrams]),
        output=np.zeros((len(words), dim), dtype=np.float32),
    )


def write_fasttext_vectors(kv: KeyedVectors, path: str | Path) -> None:
    """Write `kv` (with n-gram rows) as a fastText `.bin` that gensim and fastText load, atomically."""
    write_fasttext(path, fasttext_model(kv))
