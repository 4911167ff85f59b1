"""Encoding a whole training corpus into fastText input rows: token ids in Python, rows in numba.

`SupervisedModel.encode` (one text, plain Python) is the reference; `encode_corpus` gives the
same rows and labels for every text, faster: Python only maps each token to an id (one dict
lookup; unknown tokens get ids past the dictionary, once each), then `assemble` builds, per
text, the rows of its words (their own row and character n-gram rows, from a per-id table) and
the buckets of its word n-grams (fastText's hash, sign-extended, h * 116049371 + next mod 2**64).
Memory: the corpus's token ids (4 bytes per token) and its rows (4 bytes per row).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
from numba import njit

from corpuskit.embeddings.fasttext_format import EOS
from corpuskit.embeddings.subwords import fnv1a_hash

WORD, LABEL, SKIP = 0, 1, 2


@njit(cache=True)
def assemble(text_offsets, ids, kinds, values, id_row_offsets, id_rows, id_hashes, n, bucket, nwords):
    """(row offsets, rows, label offsets, labels) of every text; see the module docstring."""
    texts = text_offsets.shape[0] - 1
    row_offsets = np.zeros(texts + 1, dtype=np.int64)
    label_offsets = np.zeros(texts + 1, dtype=np.int64)
    use_ngrams = n > 1 and bucket > 0
    for t in range(texts):
        rows = 0
        labels = 0
        words = 0
        for k in range(text_offsets[t], text_offsets[t + 1]):
            i = ids[k]
            if kinds[i] == 0:
                rows += id_row_offsets[i + 1] - id_row_offsets[i]
                words += 1
            elif kinds[i] == 1:
                labels += 1
        if use_ngrams:
            for w in range(words):
                rows += min(n - 1, words - 1 - w)
        row_offsets[t + 1] = row_offsets[t] + rows
        label_offsets[t + 1] = label_offsets[t] + labels
    out_rows = np.empty(row_offsets[texts], dtype=np.int32)
    out_labels = np.empty(label_offsets[texts], dtype=np.int32)
    multiplier = np.uint64(116049371)
    ubucket = np.uint64(bucket)
    longest = 1
    for t in range(texts):
        longest = max(longest, text_offsets[t + 1] - text_offsets[t])
    hashes = np.empty(longest, dtype=np.uint64)
    for t in range(texts):
        p = row_offsets[t]
        q = label_offsets[t]
        words = 0
        for k in range(text_offsets[t], text_offsets[t + 1]):
            i = ids[k]
            if kinds[i] == 0:
                for r in range(id_row_offsets[i], id_row_offsets[i + 1]):
                    out_rows[p] = id_rows[r]
                    p += 1
                hashes[words] = id_hashes[i]
                words += 1
            elif kinds[i] == 1:
                out_labels[q] = values[i]
                q += 1
        if use_ngrams:
            for a in range(words):
                h = hashes[a]
                for b in range(a + 1, min(words, a + n)):
                    h = h * multiplier + hashes[b]
                    out_rows[p] = nwords + np.int64(h % ubucket)
                    p += 1
    return row_offsets, out_rows, label_offsets, out_labels


def encode_corpus(model, texts: Iterable[str]) -> tuple[np.ndarray, ...]:
    """(row offsets, rows, label offsets, labels, tokens per text) for `texts`, as `model.encode` gives each."""
    from corpuskit.embeddings.supervised import tokenize

    if model.file.pruneidx is not None:  # pruned buckets map through a dict: the plain path
        return _encode_each(model, [tokenize(text) for text in texts])
    index = dict(model.index)  # token -> id; unknown tokens are added past the dictionary
    tokens_of_id = list(model.file.words)
    eos_id = index.get(EOS)
    if eos_id is None:
        eos_id = index[EOS] = len(tokens_of_id)
        tokens_of_id.append(EOS)
    ids = array("i")
    text_offsets = array("q", [0])
    weights = array("d")
    for text in texts:
        tokens = tokenize(text)
        found = list(map(index.get, tokens))
        if None in found:
            for k, token in enumerate(tokens):
                if found[k] is None:
                    found[k] = index[token] = len(tokens_of_id)
                    tokens_of_id.append(token)
        ids.extend(found)
        ids.append(eos_id)
        text_offsets.append(len(ids))
        weights.append(len(tokens) + 1)
    if not weights:
        raise ValueError("the corpus given for training is empty")
    kinds = np.empty(len(tokens_of_id), dtype=np.int8)
    values = np.zeros(len(tokens_of_id), dtype=np.int32)
    hashes = np.zeros(len(tokens_of_id), dtype=np.uint64)
    row_offsets = np.zeros(len(tokens_of_id) + 1, dtype=np.int64)
    rows: list[int] = []
    for i, token in enumerate(tokens_of_id):
        kind, value, token_hash = model._token_entry(token)
        kinds[i] = kind
        if kind == LABEL:
            values[i] = value
        elif kind == WORD:
            rows.extend(value)
            hashes[i] = token_hash | 0xFFFFFFFF00000000 if token_hash & 0x80000000 else token_hash
        row_offsets[i + 1] = len(rows)
    a = model.args
    out = assemble(np.frombuffer(text_offsets, dtype=np.int64), np.frombuffer(ids, dtype=np.int32), kinds, values, row_offsets,
                   np.array(rows, dtype=np.int32), hashes, a.word_ngrams, a.bucket if model.file.pruneidx is None else 0, model.nwords)
    return (*out, np.frombuffer(weights, dtype=np.float64).copy())


def _encode_each(model, token_lists: list[list[str]]) -> tuple[np.ndarray, ...]:
    row_offsets, label_offsets, weights = [0], [0], []
    rows: list[int] = []
    labels: list[int] = []
    for tokens in token_lists:
        r, lab = model.encode(tokens)
        rows.extend(r)
        labels.extend(lab)
        row_offsets.append(len(rows))
        label_offsets.append(len(labels))
        weights.append(len(tokens) + 1)
    if not weights:
        raise ValueError("the corpus given for training is empty")
    return (np.array(row_offsets, np.int64), np.array(rows, np.int32), np.array(label_offsets, np.int64), np.array(labels, np.int32),
            np.array(weights, np.float64))
