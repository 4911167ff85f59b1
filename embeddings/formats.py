"""Vector files: word2vec text (= fastText .vec), word2vec binary, and the native .npz.

word2vec text: a "V dim" header line, then one "word v1 ... vdim" line per word. word2vec
binary: the same header, then per word its UTF-8 bytes, a space, dim little-endian float32 and a
newline (word2vec.c's layout; readers also accept entries without the newline, as gensim
writes them). Native .npz (`corpuskit.modelfile`, tag `corpuskit.keyed-vectors` version 1):
arrays `vectors`, optional `counts` and `ngram_vectors`; JSON metadata: words, minn, maxn.
Native files written before that convention (a `meta` array) are still read. Errors name the
file and line (text) or entry (binary); a bad native file is a `ModelFileError`.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.files import atomic_write, open_binary, open_text, strip_compression
from corpuskit.modelfile import ModelFileError, load_arrays, save_arrays

NATIVE_FORMAT = "corpuskit.keyed-vectors"
NATIVE_VERSION = 1
LEGACY_FORMAT = "corpuskit.keyed_vectors/1"  # the npz layout before corpuskit.modelfile; still read
FORMATS = ("npz", "word2vec", "word2vec-binary")
READ_BLOCK = 1 << 20


def guess_format(path: str | Path) -> str:
    """'.npz' -> npz, '.bin' -> word2vec-binary, anything else (.txt, .vec, .w2v) -> word2vec text."""
    name = strip_compression(Path(path).name)
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(".bin"):
        return "word2vec-binary"
    return "word2vec"


def save_vectors(kv: KeyedVectors, path: str | Path, format: str | None = None) -> None:
    """Write `kv` atomically in `format` (default: from the extension)."""
    format = format or guess_format(path)
    if format == "npz":
        _save_npz(kv, path)
    elif format == "word2vec":
        with atomic_write(path, "w") as out:
            write_word2vec_text(kv, out)
    elif format == "word2vec-binary":
        with atomic_write(path, "wb") as out:
            write_word2vec_binary(kv, out)
    else:
        raise ValueError(f"unknown vectors format {format!r}; choose one of {FORMATS}")


def load_vectors(path: str | Path, format: str | None = None) -> KeyedVectors:
    """Read vectors from `path` in `format` (default: from the extension).

    A damaged file (empty, truncated, not the format) or one holding NaN or infinite values is
    a `ModelFileError` naming the file, what was expected and what was found.
    """
    format = format or guess_format(path)
    readers = {"npz": _load_npz, "word2vec": read_word2vec_text, "word2vec-binary": read_word2vec_binary}
    if format not in readers:
        raise ValueError(f"unknown vectors format {format!r}; choose one of {FORMATS}")
    expected = f"a {format} vectors file"
    if Path(path).is_file() and Path(path).stat().st_size == 0:
        raise ModelFileError(path, expected, "an empty file")
    try:
        kv = readers[format](path)
    except (CorpusError, FileNotFoundError):
        raise
    except (EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError) as exc:
        raise ModelFileError(path, expected, f"an unreadable file ({type(exc).__name__}: {exc})") from None
    _check_finite(kv, path, expected)
    return kv


def _check_finite(kv: KeyedVectors, path: str | Path, expected: str) -> None:
    """NaN or infinite vectors would poison every similarity: refuse them, naming the first word."""
    for name, array in (("vectors", kv.vectors), ("ngram_vectors", kv.ngram_vectors)):
        if array is None or array.size == 0:
            continue
        bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
        if bad.size:
            row = int(bad[0])
            what = f"the vector of {kv.index_to_key[row]!r}" if name == "vectors" else f"n-gram bucket {row}"
            raise ModelFileError(path, f"{expected} with finite values", f"NaN or infinity in {what} ({bad.size} row(s) in {name})")


def write_word2vec_text(kv: KeyedVectors, out: IO[str]) -> None:
    """word2vec text; 9 significant digits so every float32 reads back bit-identical."""
    out.write(f"{len(kv)} {kv.vector_size}\n")
    for word, row in zip(kv.index_to_key, kv.vectors):
        out.write(word + " " + " ".join(["%.9g" % x for x in row.tolist()]) + "\n")


def write_word2vec_binary(kv: KeyedVectors, out: IO[bytes]) -> None:
    out.write(f"{len(kv)} {kv.vector_size}\n".encode())
    vectors = kv.vectors.astype("<f4", copy=False)
    for word, row in zip(kv.index_to_key, vectors):
        out.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")


def _parse_header(line: str, path: str | Path) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ModelFileError(f"{path}:1", "a header 'vocab_size dim'", repr(line.strip()[:60]))
    return int(parts[0]), int(parts[1])


def read_word2vec_text(path: str | Path) -> KeyedVectors:
    """Read word2vec text / fastText .vec (compressed files too)."""
    with open_text(path) as handle:
        size, dim = _parse_header(handle.readline(), path)
        words: list[str] = []
        vectors = np.empty((size, dim), dtype=np.float32)
        for lineno, line in enumerate(handle, start=2):
            parts = line.rstrip("\r\n").rstrip(" ").split(" ")
            if len(parts) == 1 and not parts[0]:
                continue
            if len(words) == size:
                raise ModelFileError(f"{path}:{lineno}", f"at most the header's {size} vectors", "more")
            if len(parts) != dim + 1:
                raise ModelFileError(f"{path}:{lineno}", f"a word and {dim} numbers", f"{len(parts) - 1} fields")
            try:
                vectors[len(words)] = np.array(parts[1:], dtype=np.float32)
            except ValueError as exc:
                raise ModelFileError(f"{path}:{lineno}", f"{dim} numbers", str(exc)) from None
            words.append(parts[0])
    if len(words) != size:
        raise ModelFileError(path, f"{size} vectors (as its header says)", f"{len(words)}")
    return KeyedVectors(words, vectors)


def read_word2vec_binary(path: str | Path) -> KeyedVectors:
    """Read word2vec binary (word2vec.c's or gensim's), streaming in 1 MiB blocks."""
    with open_binary(path) as handle:
        header = b""
        while not header.endswith(b"\n"):
            byte = handle.read(1)
            if not byte:
                raise ModelFileError(f"{path}:1", "a header line", "the end of the file")
            header += byte
        size, dim = _parse_header(header.decode("utf-8", errors="replace"), path)
        width = 4 * dim
        words: list[str] = []
        vectors = np.empty((size, dim), dtype=np.float32)
        buffer = b""
        pos = 0
        eof = False
        while len(words) < size:
            space = buffer.find(b" ", pos)
            if space < 0 or len(buffer) < space + 1 + width:
                if eof:
                    raise ModelFileError(f"{path}: entry {len(words) + 1}", f"{size} vectors (as its header says)", "the end of the file: file ends early")
                block = handle.read(READ_BLOCK)
                eof = not block
                buffer = buffer[pos:] + block
                pos = 0
                continue
            word = buffer[pos:space].lstrip(b"\n")
            try:
                words.append(word.decode("utf-8"))
            except UnicodeDecodeError:
                raise ModelFileError(f"{path}: entry {len(words) + 1}", "a UTF-8 word", "invalid UTF-8") from None
            vectors[len(words) - 1] = np.frombuffer(buffer, dtype="<f4", count=dim, offset=space + 1)
            pos = space + 1 + width
    return KeyedVectors(words, vectors)


def _save_npz(kv: KeyedVectors, path: str | Path) -> None:
    meta = {"words": kv.index_to_key, "minn": kv.minn, "maxn": kv.maxn}
    arrays = {"vectors": kv.vectors}
    if kv.counts is not None:
        arrays["counts"] = kv.counts
    if kv.ngram_vectors is not None:
        arrays["ngram_vectors"] = kv.ngram_vectors
    save_arrays(path, NATIVE_FORMAT, NATIVE_VERSION, arrays, meta)


def _load_npz(path: str | Path) -> KeyedVectors:
    """A native file (`corpuskit.modelfile` layout), or one written before it (arrays + a `meta` array)."""
    try:
        with zipfile.ZipFile(path) as archive:
            legacy = "meta.npy" in archive.namelist() and "__meta__.npy" not in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        legacy = False  # load_arrays names what is wrong
    if legacy:
        return _load_legacy_npz(path)
    arrays, meta = load_arrays(path, NATIVE_FORMAT, NATIVE_VERSION, required=("vectors",))
    try:
        return _keyed_vectors(arrays, meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(path, f"a consistent {NATIVE_FORMAT} file", f"{type(exc).__name__}: {exc}") from None


def _keyed_vectors(arrays: dict[str, np.ndarray], meta: dict) -> KeyedVectors:
    return KeyedVectors(
        meta["words"],
        arrays["vectors"],
        counts=arrays.get("counts"),
        ngram_vectors=arrays.get("ngram_vectors"),
        minn=int(meta.get("minn", 0)),
        maxn=int(meta.get("maxn", 0)),
    )


def _load_legacy_npz(path: str | Path) -> KeyedVectors:
    expected = f"a {LEGACY_FORMAT} file"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(path, expected, f"an unreadable file ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != LEGACY_FORMAT:
        raise ModelFileError(path, expected, f"format tag {meta.get('format') if isinstance(meta, dict) else meta!r}")
    if "vectors" not in arrays:
        raise ModelFileError(path, expected, "no 'vectors' array")
    try:
        return _keyed_vectors(arrays, meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(path, expected, f"{type(exc).__name__}: {exc}") from None
