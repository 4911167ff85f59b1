"""WordCounts: the pre-tokenized word counts every tokenizer trainer learns from, as mergeable Counts.

Words are kept sorted (by code point) with positive 64-bit counts, so shards merged in any order
give equal counts, byte-identical files and identical tokenizers. The file is npz (see
`corpuskit.modelfile`): the words' UTF-8 bytes, their end offsets and their counts.
Memory: O(distinct words).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from corpuskit.trainer import Counts

_INT64_MAX = (1 << 63) - 1


class WordCounts(Counts, Mapping[str, int]):
    """{pre-tokenized word: count} ('Ġthe' for byte-level, '▁the' for Metaspace), read-only.

    `config` is the counting config (normalizer, pre-tokenizer, special tokens) that made them;
    `texts` is how many texts were read. Empty words and zero counts are dropped.
    """

    format = "corpuskit.word-counts"

    def __init__(self, config: Mapping[str, Any], counts: Mapping[str, int], texts: int = 0) -> None:
        super().__init__(config)
        words = sorted(counts)  # two sorted runs (a merge) sort in linear time
        values = list(map(int, map(counts.__getitem__, words)))
        if values and (min(values) < 0 or max(values) > _INT64_MAX):
            bad = next(w for w, n in zip(words, values) if n < 0 or n > _INT64_MAX)
            raise ValueError(f"count of {bad!r} is {int(counts[bad])}: counts are non-negative 64-bit integers")
        self._counts: dict[str, int] = dict(zip(words, values))
        if self._counts.pop("", None) is not None or 0 in values:
            self._counts = {w: n for w, n in self._counts.items() if n}
        self.texts = int(texts)

    def __getitem__(self, word: str) -> int:
        return self._counts[word]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __repr__(self) -> str:
        return f"WordCounts({len(self)} words, {self.total()} occurrences, {self.texts} texts)"

    def as_dict(self) -> dict[str, int]:
        """The sorted {word: count} dict itself, without a copy (for trainers; do not modify it)."""
        return self._counts

    def items(self) -> Any:
        return self._counts.items()

    def values(self) -> Any:
        return self._counts.values()

    def total(self) -> int:
        """Occurrences of all words together."""
        return sum(self._counts.values())

    def _merged(self, other: "WordCounts") -> "WordCounts":  # type: ignore[override]
        total = dict(self._counts)
        for word, n in other._counts.items():
            total[word] = total.get(word, 0) + n
        return WordCounts(self.config, total, self.texts + other.texts)

    def _to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        encoded = [word.encode("utf-8") for word in self._counts]
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), dtype=np.int64)
        arrays = {
            "words_utf8": np.frombuffer(b"".join(encoded), dtype=np.uint8),
            "word_ends": ends,
            "counts": np.fromiter(self._counts.values(), np.int64, len(self._counts)),
        }
        return arrays, {"words": len(encoded), "texts": self.texts}

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], config: dict[str, Any]) -> "WordCounts":
        blob, ends, counts = arrays["words_utf8"], arrays["word_ends"], arrays["counts"]
        if blob.dtype != np.uint8 or ends.dtype != np.int64 or counts.dtype != np.int64:
            raise ValueError(f"array dtypes {blob.dtype}, {ends.dtype}, {counts.dtype}; expected uint8, int64, int64")
        n = int(meta["words"])
        if ends.shape != (n,) or counts.shape != (n,):
            raise ValueError(f"metadata says {n} words, arrays hold {ends.shape[0]} ends and {counts.shape[0]} counts")
        if n and (ends[-1] != blob.size or np.any(np.diff(ends) <= 0) or ends[0] <= 0):
            raise ValueError("word end offsets are not increasing up to the byte length")
        if np.any(counts <= 0):
            raise ValueError("a count is not positive")
        data = blob.tobytes()
        starts = np.concatenate([[0], ends[:-1]]) if n else ends
        words = [data[a:b].decode("utf-8") for a, b in zip(starts.tolist(), ends.tolist())]
        if any(words[i] >= words[i + 1] for i in range(n - 1)):
            raise ValueError("words are not sorted and unique")
        out = cls(config, {}, int(meta["texts"]))
        out._counts = dict(zip(words, counts.tolist()))
        return out
