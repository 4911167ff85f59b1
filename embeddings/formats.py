"""Vector files: word2vec text (= fastText .vec), word2vec binary, GloVe text, fastText .bin/.ftz, native .npz.

word2vec text: a "V dim" header line, then one "word v1 ... vdim" line per word. word2vec
binary: the same header, then per word its UTF-8 bytes, a space, dim little-endian float32 and a
newline (word2vec.c's layout; readers also accept entries without the newline, as gensim
writes them). Native .npz (`corpuskit.modelfile`, tag `corpuskit.keyed-vectors` version 1):
arrays `vectors`, optional `counts`, `ngram_vectors` and `bucket_map` (a pruned fastText model's
(bucket, row) pairs); JSON metadata: words, minn, maxn (and `bucket` with a bucket map).
Native files written before that convention (a `meta` array) are still read. Errors name the
file and line (text) or entry (binary); a bad native file is a `ModelFileError`.
GloVe text is word2vec text without the header line. A Facebook fastText model (`.bin`/`.ftz`,
`corpuskit.embeddings.fasttext_vectors`) keeps its n-gram rows, so unknown words get vectors.

Reading sniffs the content, never trusting the name (`.bin` names word2vec binary files and
fastText models alike): fastText's magic number, a zip archive (npz), then a text head with or
without a "count dim" header, and a header followed by non-text bytes (word2vec binary).
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
FORMATS = ("npz", "word2vec", "word2vec-binary", "glove", "fasttext")
READ_BLOCK = 1 << 20
SNIFF_BYTES = 1 << 16
EXPECTED_ANY = "a vectors file (npz, fastText .bin/.ftz, word2vec text or binary, or GloVe text)"


def guess_format(path: str | Path) -> str:
    """The format a name implies when writing: '.npz' -> npz, '.bin' -> word2vec-binary, '.ftz' -> fasttext,
    anything else (.txt, .vec, .w2v) -> word2vec text. Reading sniffs the content instead."""
    name = strip_compression(Path(path).name)
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(".ftz"):
        return "fasttext"
    if name.endswith(".bin"):
        return "word2vec-binary"
    return "word2vec"


def sniff_format(path: str | Path) -> str:
    """The format of the file at `path`, from its first bytes (see the module docstring).

    A file that is none of the formats is a `ModelFileError` describing what it holds.
    Memory: the first 64 KiB (decompressed).
    """
    from corpuskit.embeddings.fasttext_format import is_fasttext_file

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, EXPECTED_ANY, "no such file" if not path.exists() else "a directory")
    if is_fasttext_file(path):
        return "fasttext"
    if zipfile.is_zipfile(path):
        return "npz"
    try:
        with open_binary(path) as handle:
            head = handle.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise ModelFileError(path, EXPECTED_ANY, f"an unreadable file ({type(exc).__name__})") from None
    if not head:
        raise ModelFileError(path, EXPECTED_ANY, "an empty file")
    newline = head.find(b"\n")
    first = head if newline < 0 else head[:newline]
    rest = head[newline + 1 :] if newline >= 0 else b""
    parts = first.split()
    if _is_text(first) and len(parts) == 2 and all(p.isdigit() for p in parts):
        return "word2vec" if _is_text(rest) else "word2vec-binary"
    if parts and _is_text(first) and _is_text(rest):
        return "glove"
    raise ModelFileError(path, EXPECTED_ANY, f"binary data with no known magic number or header ({path.stat().st_size} bytes)")


_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\v")


def _is_text(data: bytes) -> bool:
    """No control bytes but whitespace: text (in any 8-bit encoding; readers keep invalid UTF-8 as escapes).

    float32 data holds such bytes within a few numbers, so a header followed by them is word2vec binary.
    """
    return data.translate(None, _CONTROL) == data


def save_vectors(kv: KeyedVectors, path: str | Path, format: str | None = None) -> None:
    """Write `kv` atomically in `format` (default: from the extension; `.bin` of subword vectors is fastText)."""
    if format is None:
        format = guess_format(path)
        if format == "word2vec-binary" and kv.has_subwords:
            format = "fasttext"  # word2vec binary would drop the n-gram rows that OOV lookups need
    if format == "fasttext":
        from corpuskit.embeddings.fasttext_vectors import write_fasttext_vectors

        write_fasttext_vectors(kv, path)
    elif format == "glove":
        with atomic_write(path, "w") as out:
            write_word2vec_text(kv, out, header=False)
    elif format == "npz":
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
    """Read vectors from `path` in `format` (default: sniffed from the content, see `sniff_format`).

    A damaged file (empty, truncated, not the format) or one holding NaN or infinite values is
    a `ModelFileError` naming the file, what was expected and what was found. Vectors from a
    fastText model answer `v[word]` for unknown words too, from their character n-grams.
    """
    from corpuskit.embeddings.fasttext_vectors import read_fasttext_vectors

    format = format or sniff_format(path)
    readers = {"npz": _load_npz, "word2vec": read_word2vec_text, "word2vec-binary": read_word2vec_binary, "glove": read_glove_text, "fasttext": read_fasttext_vectors}
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


def write_word2vec_text(kv: KeyedVectors, out: IO[str], header: bool = True) -> None:
    """word2vec text (GloVe text without `header`); 9 significant digits so every float32 reads back bit-identical."""
    if header:
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
        printable = line.isprintable() or line.rstrip("\r\n").isprintable()
        found = repr(line.strip()[:60]) if printable and "\ufffd" not in line else "binary data, not a text line"
        raise ModelFileError(f"{path}:1", "a header 'vocab_size dim'", found)
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


def read_glove_text(path: str | Path) -> KeyedVectors:
    """Read GloVe text: "word v1 ... vdim" lines, no header; dim from the first line. Memory: O(V * dim)."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim = 0
    with open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            parts = line.rstrip("\r\n").rstrip(" ").split(" ")
            if len(parts) == 1 and not parts[0]:
                continue
            if not dim:
                dim = len(parts) - 1
                if dim < 1:
                    raise ModelFileError(f"{path}:{lineno}", "a header 'vocab_size dim' (word2vec text) or a word and its numbers (GloVe text)", "one field")
            if len(parts) != dim + 1:
                raise ModelFileError(f"{path}:{lineno}", f"a word and {dim} numbers (as on the first line)", f"{len(parts) - 1} fields")
            try:
                rows.append(np.array(parts[1:], dtype=np.float32))
            except ValueError as exc:
                raise ModelFileError(f"{path}:{lineno}", f"{dim} numbers", str(exc)) from None
            words.append(parts[0])
    if not words:
        raise ModelFileError(path, "GloVe text (a word and its numbers per line)", "no vectors")
    return KeyedVectors(words, np.stack(rows))


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
    if kv.bucket_map is not None:  # a pruned fastText model's buckets: (bucket, row) pairs and the hash modulus
        arrays["bucket_map"] = np.array(sorted(kv.bucket_map.items()), dtype=np.int64).reshape(-1, 2)
        meta["bucket"] = kv.bucket
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
        bucket_map={int(b): int(r) for b, r in arrays["bucket_map"]} if "bucket_map" in arrays else None,
        bucket=int(meta["bucket"]) if "bucket" in meta else None,
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
