"""Keyed vectors: what every embedding trainer returns and every query reads.

One object answers `kv["word"]`, `most_similar`, `similarity`, `analogy`, `doesnt_match`, and
saves/loads itself (native .npz, word2vec text/binary, fastText .vec). When it carries fastText
n-gram buckets, words outside the vocabulary get a vector from their n-grams.
Memory: O(V * dim), twice once unit vectors are cached for queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from corpuskit.embeddings.subwords import ngram_buckets
from corpuskit.trainer import Model

Query = str | np.ndarray


class KeyedVectors(Model):
    """Word vectors (float32, one row per word, ids frequency-sorted) with similarity queries."""

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        counts: np.ndarray | None = None,
        ngram_vectors: np.ndarray | None = None,
        minn: int = 0,
        maxn: int = 0,
        bucket_map: dict[int, int] | None = None,
        bucket: int | None = None,
    ) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"vectors of shape {vectors.shape} do not match {len(words)} words")
        self.index_to_key = list(words)
        self.key_to_index = {word: i for i, word in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("duplicate words in the vocabulary")
        self._vectors = vectors
        self._vectors.flags.writeable = False
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.ngram_vectors = None if ngram_vectors is None else np.ascontiguousarray(ngram_vectors, dtype=np.float32)
        self.minn = minn
        self.maxn = maxn
        # A pruned fastText model keeps some buckets only: n-gram hash % `bucket` -> row of ngram_vectors
        # through `bucket_map`; n-grams whose bucket was dropped are skipped (fastText's rule).
        self.bucket_map = bucket_map
        self.bucket = bucket if bucket is not None else (0 if self.ngram_vectors is None else self.ngram_vectors.shape[0])
        if bucket_map is not None and self.ngram_vectors is not None and any(not 0 <= r < self.ngram_vectors.shape[0] for r in bucket_map.values()):
            raise ValueError(f"bucket map rows must index the {self.ngram_vectors.shape[0]} n-gram rows")
        self._unit: np.ndarray | None = None

    # -- lookup ---------------------------------------------------------------------------
    @property
    def vectors(self) -> np.ndarray:
        """All word vectors (read-only view)."""
        return self._vectors

    @property
    def vector_size(self) -> int:
        return self._vectors.shape[1]

    @property
    def has_subwords(self) -> bool:
        return self.ngram_vectors is not None and self.ngram_vectors.shape[0] > 0 and self.bucket > 0 and self.maxn >= self.minn > 0

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: str) -> bool:
        """True for vocabulary words, and for any word with at least one n-gram when subwords exist."""
        return word in self.key_to_index or bool(self.ngram_rows(word))

    def __getitem__(self, word: str) -> np.ndarray:
        return self.get_vector(word)

    def ngram_rows(self, word: str) -> list[int]:
        """Rows of `ngram_vectors` for the word's character n-grams (empty without subwords)."""
        if not self.has_subwords:
            return []
        buckets = ngram_buckets(word, self.minn, self.maxn, self.bucket)
        if self.bucket_map is None:
            return buckets
        return [self.bucket_map[b] for b in buckets if b in self.bucket_map]

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """The word's vector; an unknown word is the mean of its n-gram rows, else a KeyError naming it."""
        index = self.key_to_index.get(word)
        if index is not None:
            vector = self.unit_vectors[index] if norm else self._vectors[index]
            return vector
        buckets = self.ngram_rows(word)
        if not buckets:
            raise KeyError(f"word {word!r} is not in the vocabulary ({len(self)} words)")
        vector = self.ngram_vectors[buckets].mean(axis=0)
        return _normalize(vector) if norm else vector

    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to unit length (computed once, read-only; zero rows stay zero)."""
        if self._unit is None:
            unit = _normalize(self._vectors)
            unit.flags.writeable = False
            self._unit = unit
        return self._unit

    # -- queries --------------------------------------------------------------------------
    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(self.get_vector(a, norm=True) @ self.get_vector(b, norm=True))

    def most_similar(
        self,
        positive: Query | Iterable[Query] = (),
        negative: Query | Iterable[Query] = (),
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Words nearest (cosine) to mean(unit positive) - mean-weighted unit negatives, inputs excluded.

        As in gensim: query = unit(sum of +unit(p) and -unit(n)); words given as inputs never come back.
        """
        positive = [positive] if isinstance(positive, (str, np.ndarray)) else list(positive)
        negative = [negative] if isinstance(negative, (str, np.ndarray)) else list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        query, exclude = self._combine(positive, negative)
        return self.nearest(query[None, :], topn, [exclude], restrict_vocab)[0]

    def _combine(self, positive: list[Query], negative: list[Query]) -> tuple[np.ndarray, list[int]]:
        total = np.zeros(self.vector_size, dtype=np.float32)
        exclude: list[int] = []
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for item in items:
                if isinstance(item, str):
                    total += sign * self.get_vector(item, norm=True)
                    if item in self.key_to_index:
                        exclude.append(self.key_to_index[item])
                else:
                    total += sign * _normalize(np.asarray(item, dtype=np.float32))
        return _normalize(total), exclude

    def nearest(
        self,
        queries: np.ndarray,
        topn: int = 10,
        exclude: Sequence[Sequence[int]] | None = None,
        restrict_vocab: int | None = None,
        batch_size: int = 1024,
    ) -> list[list[tuple[str, float]]]:
        """Top-n words by cosine for each row of `queries` (rows need not be unit length).

        Batched matrix products against the unit vectors, argpartition for the top n.
        Memory: O(batch_size * V).
        """
        queries = _normalize(np.atleast_2d(np.asarray(queries, dtype=np.float32)))
        unit = self.unit_vectors[:restrict_vocab] if restrict_vocab else self.unit_vectors
        results = []
        for start in range(0, queries.shape[0], batch_size):
            batch = queries[start : start + batch_size]
            scores = (unit @ batch[0])[None, :] if batch.shape[0] == 1 else batch @ unit.T  # (B, V); one query: gemv
            for row, sims in enumerate(scores):
                banned = exclude[start + row] if exclude is not None else ()
                for index in banned:
                    if index < sims.shape[0]:
                        sims[index] = -np.inf
                results.append(self._top(sims, topn))
        return results

    def _top(self, sims: np.ndarray, topn: int) -> list[tuple[str, float]]:
        k = min(topn, sims.shape[0])
        if k <= 0:
            return []
        best = np.argpartition(-sims, k - 1)[:k] if k < sims.shape[0] else np.arange(sims.shape[0])
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(self.index_to_key[i], float(sims[i])) for i in best if np.isfinite(sims[i])]

    def analogy(
        self, a: str, b: str, c: str, topn: int = 1, method: str = "add", restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """a : b :: c : ?  ('man', 'king', 'woman' -> 'queen'); method 'add' (3CosAdd) or 'mul' (3CosMul)."""
        if method == "add":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn, restrict_vocab=restrict_vocab)
        if method != "mul":
            raise ValueError(f"analogy method must be 'add' or 'mul', not {method!r}")
        unit = self.unit_vectors[:restrict_vocab] if restrict_vocab else self.unit_vectors
        cos = [(unit @ self.get_vector(w, norm=True) + 1.0) / 2.0 for w in (a, b, c)]
        scores = cos[1] * cos[2] / (cos[0] + 1e-6)
        for word in (a, b, c):
            index = self.key_to_index.get(word)
            if index is not None and index < scores.shape[0]:
                scores[index] = -np.inf
        return self._top(scores, topn)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word farthest (cosine) from the mean of the others' unit vectors."""
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        unit = np.stack([self.get_vector(w, norm=True) for w in words])
        mean = _normalize(unit.mean(axis=0))
        return words[int(np.argmin(unit @ mean))]

    # -- files ----------------------------------------------------------------------------
    def save(self, path: str | Path, format: str | None = None) -> None:
        """Write to `path`: .npz native (keeps n-grams), .bin word2vec binary, else word2vec text (.txt/.vec)."""
        from corpuskit.embeddings.formats import save_vectors

        save_vectors(self, path, format)

    @classmethod
    def load(cls, path: str | Path, format: str | None = None) -> "KeyedVectors":
        """Read a file written by `save`, gensim, word2vec.c or fastText (.vec); format by extension."""
        from corpuskit.embeddings.formats import load_vectors

        return load_vectors(path, format)


def _normalize(x: np.ndarray) -> np.ndarray:
    """Rows (or a vector) scaled to unit L2 norm, as float32; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
