"""MinHash signatures of word n-gram shingle sets, vectorised, in datasketch's "affine32" scheme.

A text's words are `str.split()` (optionally lower-cased first); its shingles are the sets of
`ngram` consecutive words (a text of fewer words is one shingle of all of them; no words, no
shingle). Each shingle gets a 32-bit hash and each of `num_perm` permutations maps it to
`(a_k * fmix32(h) + b_k) mod 2^32`; the signature is the minimum per permutation. The
permutation parameters are drawn exactly as datasketch >= 2.0 draws them for a seed, so:

- `hashing="sha1"`: shingle hash = datasketch's `sha1_hash32(shingle.encode())`; signatures are
  bit-identical to `datasketch.MinHash(num_perm, seed)` updated with each shingle's UTF-8 bytes.
- `hashing="fast"` (default): shingle hash from 64-bit FNV-1a word hashes folded in a numba
  kernel (no Python object per word); signatures equal datasketch's for the same 32-bit shingle
  hashes (`MinHash(hashfunc=lambda h: h)`), and LSH treats them like any datasketch MinHash.

Memory: one batch of texts as UTF-8 bytes plus its signatures (4 * num_perm bytes a text).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

import numpy as np

MAX_HASH32 = np.uint32(0xFFFFFFFF)
_M64 = (1 << 64) - 1
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_SHINGLE_SEED = 0x9E3779B97F4A7C15
_SHINGLE_MULT = 0xBF58476D1CE4E5B9


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) uint32 parameters datasketch's affine32 MinHash draws for `seed` (a odd)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def words_of(text: str, lowercase: bool = False) -> list[str]:
    """The words shingles are made of: `str.split()`, after lower-casing if asked."""
    return (text.lower() if lowercase else text).split()


def shingle_set(text: str, ngram: int = 5, lowercase: bool = False) -> set[str]:
    """Word n-gram shingles joined by one space, e.g. ('a b c', 2) -> {'a b', 'b c'}."""
    words = words_of(text, lowercase)
    if not words:
        return set()
    if len(words) < ngram:
        return {" ".join(words)}
    return {" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """|a & b| / |a | b|; two empty sets count as identical (1.0)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _encode(word: str) -> bytes:
    return word.encode("utf-8", "surrogatepass")


def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a of bytes (the word hash of the fast scheme)."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _M64
    return h


def _fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    return h ^ (h >> 33)


def _fold_shingle(word_hashes: Sequence[int]) -> int:
    h = _SHINGLE_SEED
    for word_hash in word_hashes:
        h = ((h ^ word_hash) * _SHINGLE_MULT) & _M64
        h ^= h >> 29
    return _fmix64(h) >> 32


def shingle_hashes_fast_ref(text: str, ngram: int = 5, lowercase: bool = False) -> np.ndarray:
    """Reference (pure Python) of the fast scheme's 32-bit shingle hashes, in text order."""
    word_hashes = [fnv1a64(_encode(w)) for w in words_of(text, lowercase)]
    if not word_hashes:
        return np.zeros(0, dtype=np.uint32)
    if len(word_hashes) < ngram:
        return np.array([_fold_shingle(word_hashes)], dtype=np.uint32)
    return np.array([_fold_shingle(word_hashes[i : i + ngram]) for i in range(len(word_hashes) - ngram + 1)], dtype=np.uint32)


def shingle_hashes_sha1(text: str, ngram: int = 5, lowercase: bool = False) -> np.ndarray:
    """datasketch's default shingle hash: first 4 bytes of SHA-1 of the shingle, little-endian."""
    words = words_of(text, lowercase)
    if not words:
        return np.zeros(0, dtype=np.uint32)
    if len(words) < ngram:
        shingles = [" ".join(words)]
    else:
        shingles = [" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]
    digests = b"".join(hashlib.sha1(_encode(s)).digest()[:4] for s in shingles)
    return np.frombuffer(digests, dtype="<u4").astype(np.uint32)


def fmix32_ref(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer on a uint32 array (wrapping arithmetic)."""
    h = h.astype(np.uint32)
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def sketch_jaccard(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Jaccard estimated from two bottom-k sketches (sorted distinct hashes), exact when both hold
    every hash: shared hashes among the k smallest of the union, over those k.

    ([1, 2, 3], [2, 3, 4], k=8) -> 2 / 4 = 0.5.
    """
    if len(a) == 0 and len(b) == 0:
        return 1.0
    union = np.union1d(a, b)[:k]
    shared = np.intersect1d(a, b, assume_unique=True)
    return float(np.count_nonzero(shared <= union[-1])) / len(union)


def minhash_ref(hashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Reference signature of 32-bit shingle hashes: min_k over shingles of a_k * fmix32(h) + b_k."""
    signature = np.full(a.shape[0], MAX_HASH32, dtype=np.uint32)
    if len(hashes):
        with np.errstate(over="ignore"):
            permuted = a[None, :] * fmix32_ref(np.asarray(hashes, dtype=np.uint32))[:, None] + b[None, :]
        signature = np.minimum(signature, permuted.min(axis=0))
    return signature


class MinHasher:
    """Computes MinHash signatures of texts in batches (numba kernel, all cores).

    `signatures(texts)` -> (uint32 array (len(texts), num_perm), shingle count per text).
    """

    def __init__(
        self,
        num_perm: int = 128,
        ngram: int = 5,
        seed: int = 1,
        lowercase: bool = False,
        hashing: Literal["fast", "sha1"] = "fast",
    ) -> None:
        if num_perm < 2:
            raise ValueError(f"num_perm must be at least 2, not {num_perm}")
        if ngram < 1:
            raise ValueError(f"ngram must be at least 1, not {ngram}")
        if hashing not in ("fast", "sha1"):
            raise ValueError(f"hashing must be 'fast' or 'sha1', not {hashing!r}")
        self.num_perm = num_perm
        self.ngram = ngram
        self.seed = seed
        self.lowercase = lowercase
        self.hashing = hashing
        self.a, self.b = permutations(num_perm, seed)

    def signatures(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Signatures of a batch of texts (see the module docstring for the scheme)."""
        from corpuskit.dedup import _kernels

        sig = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        if self.hashing == "sha1":
            parts = [shingle_hashes_sha1(t, self.ngram, self.lowercase) for t in texts]
            counts = np.array([len(p) for p in parts], dtype=np.int64)
            offsets = np.zeros(len(texts) + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
            hashes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
            _kernels.signatures_from_hashes(hashes.astype(np.uint32), offsets, self.a, self.b, sig)
            return sig, counts
        buf, offsets = self._encode_batch(texts)
        counts = np.empty(len(texts), dtype=np.int64)
        _kernels.signatures_from_bytes(buf, offsets, self.ngram, self.a, self.b, sig, counts)
        return sig, counts

    def sketches(self, texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Bottom-k sketches: per text its k smallest distinct shingle hashes, ascending.

        Returns (uint32 array (len(texts), k), used length per text). A text of at most k
        distinct shingles keeps them all, so Jaccard estimated from two sketches is then exact.
        """
        values = np.zeros((len(texts), k), dtype=np.uint32)
        lengths = np.zeros(len(texts), dtype=np.int64)
        if self.hashing == "sha1":
            for i, text in enumerate(texts):
                unique = np.unique(shingle_hashes_sha1(text, self.ngram, self.lowercase))[:k]
                values[i, : len(unique)] = unique
                lengths[i] = len(unique)
            return values, lengths
        from corpuskit.dedup import _kernels

        buf, offsets = self._encode_batch(texts)
        _kernels.bottom_k_from_bytes(buf, offsets, self.ngram, values, lengths)
        return values, lengths

    def sketch_ref(self, text: str, k: int) -> np.ndarray:
        """Reference bottom-k sketch of one text (pure Python/NumPy), for tests."""
        hashes = shingle_hashes_sha1(text, self.ngram, self.lowercase) if self.hashing == "sha1" else shingle_hashes_fast_ref(text, self.ngram, self.lowercase)
        return np.unique(hashes)[:k]

    def _encode_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encoded = [_encode(" ".join(words_of(t, self.lowercase))) for t in texts]
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets

    def signature_ref(self, text: str) -> np.ndarray:
        """Reference signature of one text (pure Python/NumPy), for tests."""
        if self.hashing == "sha1":
            hashes = shingle_hashes_sha1(text, self.ngram, self.lowercase)
        else:
            hashes = shingle_hashes_fast_ref(text, self.ngram, self.lowercase)
        return minhash_ref(hashes, self.a, self.b)
