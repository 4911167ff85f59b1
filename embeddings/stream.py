"""Read a text stream once into a file of word ids, so epochs re-read ids instead of re-tokenising text.

Pass one tokenises each text (one text = one sentence for the window), gives every new word the
next provisional id and appends the ids, then -1, to a temporary int32 file. Counts come from the
ids afterwards, the vocabulary is chosen, and the file is rewritten with final ids (dropped words
removed). Memory: O(distinct words) (the id files are read in 1M-token blocks); disk: 4 bytes per
token. Cutting the stream into chunks holds the sentence-end positions: O(sentences).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpuskit.embeddings.tokenize import tokenize
from corpuskit.embeddings.vocab import Vocabulary, build_vocabulary

log = logging.getLogger(__name__)

SENTENCE_END = -1
BATCH_TOKENS = 1 << 20  # provisional ids buffered before each write


@dataclass
class IdStream:
    """Word ids of a whole corpus on disk (int32, -1 ends each sentence), memory-mapped for reading."""

    path: Path
    tokens: int  # vocabulary tokens in the stream (separators not counted)

    def ids(self) -> np.ndarray:
        """The ids as a read-only memory map (an empty array for an empty file)."""
        if os.path.getsize(self.path) == 0:
            return np.zeros(0, dtype=np.int32)
        return np.memmap(self.path, dtype=np.int32, mode="r")

    def chunks(self, target: int = 10_000) -> list[tuple[int, int]]:
        """Split the stream into [start, end) slices of about `target` tokens, cut after sentence ends.

        A sentence longer than `target` is cut inside (as gensim does past 10,000 words).
        """
        ids = self.ids()
        bounds = [0]
        ends = np.flatnonzero(ids == SENTENCE_END) + 1
        while bounds[-1] < ids.size:
            want = bounds[-1] + target
            pos = int(np.searchsorted(ends, want))
            cut = int(ends[pos]) if pos < ends.size and ends[pos] - want < target // 2 else want
            bounds.append(min(max(cut, bounds[-1] + 1), ids.size))
        return list(zip(bounds[:-1], bounds[1:]))


def spill_corpus(
    corpus: Iterable[str], directory: str | Path, min_count: int = 5, max_vocab_size: int | None = None, lowercase: bool = True
) -> tuple[Vocabulary, IdStream]:
    """Tokenise `corpus` once, choose the vocabulary, and write the final id stream under `directory`.

    Raises CorpusError for an empty corpus or a vocabulary left empty by min_count.
    """
    directory = Path(directory)
    raw_path = directory / "provisional.i32"
    index: dict[str, int] = {}
    with open(raw_path, "wb") as out:
        for batch in _provisional_batches(corpus, index, lowercase):
            out.write(batch.tobytes())
    raw = np.memmap(raw_path, dtype=np.int32, mode="r") if os.path.getsize(raw_path) else np.zeros(0, np.int32)
    counts = np.zeros(len(index), dtype=np.int64)
    for start in range(0, raw.size, BATCH_TOKENS):
        part = raw[start : start + BATCH_TOKENS]
        counts += np.bincount(part[part >= 0], minlength=len(index))
    vocab, remap = build_vocabulary(list(index), counts, min_count, max_vocab_size)
    del index
    final_path = directory / "ids.i32"
    with open(final_path, "wb") as out:
        for start in range(0, raw.size, BATCH_TOKENS):
            part = raw[start : start + BATCH_TOKENS]
            mapped = np.where(part >= 0, remap[np.maximum(part, 0)], SENTENCE_END)
            out.write(mapped[mapped != -2].astype(np.int32).tobytes())
    del raw
    raw_path.unlink()
    log.info("vocabulary: %d words, %d tokens kept", len(vocab), vocab.total)
    return vocab, IdStream(final_path, vocab.total)


def restrict_stream(stream: IdStream, size: int, directory: str | Path) -> IdStream:
    """The stream without ids >= `size` (words cut from a canonical vocabulary), written under `directory`.

    Sentence ends stay, so the result equals `write_stream` with the first `size` words.
    """
    ids = stream.ids()
    path = Path(directory) / "ids-restricted.i32"
    tokens = 0
    with open(path, "wb") as out:
        for start in range(0, ids.size, BATCH_TOKENS):
            part = np.asarray(ids[start : start + BATCH_TOKENS])
            part = part[part < size]
            tokens += int(np.count_nonzero(part >= 0))
            out.write(part.astype(np.int32).tobytes())
    return IdStream(path, tokens)


def write_stream(corpus: Iterable[str], vocab: Vocabulary, directory: str | Path, lowercase: bool = True) -> IdStream:
    """Tokenise `corpus` into the ids of `vocab` (other words dropped, -1 after every text with a token).

    Memory: O(V) for the index, the ids go to disk in blocks.
    """
    index = vocab.index()
    path = Path(directory) / "ids.i32"
    tokens = 0
    buffer: list[int] = []
    with open(path, "wb") as out:
        for text in corpus:
            words = tokenize(text, lowercase)
            if not words:
                continue
            ids = [i for i in map(index.get, words) if i is not None]
            tokens += len(ids)
            buffer.extend(ids)
            buffer.append(SENTENCE_END)
            if len(buffer) >= BATCH_TOKENS:
                out.write(np.array(buffer, dtype=np.int32).tobytes())
                buffer = []
        out.write(np.array(buffer, dtype=np.int32).tobytes())
    return IdStream(path, tokens)


def _provisional_batches(corpus: Iterable[str], index: dict[str, int], lowercase: bool) -> Iterator[np.ndarray]:
    buffer: list[int] = []
    for text in corpus:
        tokens = tokenize(text, lowercase)
        if not tokens:
            continue
        buffer.extend([index.setdefault(token, len(index)) for token in tokens])
        buffer.append(SENTENCE_END)
        if len(buffer) >= BATCH_TOKENS:
            yield np.array(buffer, dtype=np.int32)
            buffer = []
    if buffer:
        yield np.array(buffer, dtype=np.int32)


def temporary_directory(base: str | Path | None = None) -> tempfile.TemporaryDirectory:
    """A scratch folder for id streams and co-occurrence spills (under `base`, else the system temp)."""
    return tempfile.TemporaryDirectory(prefix="corpuskit-embed-", dir=base)
