"""ARPA back-off files (the format KenLM, SRILM and IRSTLM share): write and read.

    \\data\\
    ngram 1=3          how many n-grams of each order follow
    \\1-grams:
    -1.2<TAB>word<TAB>-0.3     log10 prob, the words, log10 backoff (absent for the top order)
    \\end\\

Files ending in .gz/.bz2/.xz/.zst are (de)compressed on the fly. Reading keeps every n-gram in
memory, plus a dict of n-gram -> node while reading (O(n-grams)).
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.files import atomic_write, open_text
from corpuskit.modelfile import ModelFileError
from corpuskit.lm.ngram.model import NGramModel
from corpuskit.lm.ngram.vocab import SPECIALS, to_bytes

log = logging.getLogger(__name__)


def _compressed_writer(raw: IO[bytes], path: str) -> IO[bytes]:
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)
    if path.endswith(".bz2"):
        return bz2.BZ2File(raw, "wb")
    if path.endswith(".xz"):
        return lzma.LZMAFile(raw, "wb")
    if path.endswith(".zst"):
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
    return raw


def ngram_texts(model: NGramModel, order: int, previous: list[str] | None) -> list[str]:
    """The words of every n-gram of `order` as one space-joined string, from those of order-1."""
    start, stop = model.offsets[order - 1], model.offsets[order]
    words = model.words
    if order == 1:
        return list(words)
    prev_start = model.offsets[order - 2]
    assert previous is not None
    parents = (model.parent[start:stop] - prev_start).tolist()
    return [f"{previous[p]} {words[w]}" for p, w in zip(parents, model.word[start:stop].tolist())]


def format_decimal(value: float) -> str:
    """The number format of our ARPA files: at most 6 decimals, no trailing zeros, no '-0'."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def arpa_lines_ref(model: NGramModel, order: int, previous: list[str] | None) -> tuple[str, list[str]]:
    """Plain-Python reference of `kernels.format_arpa_lines` for one order (and the n-gram texts)."""
    start, stop = model.offsets[order - 1], model.offsets[order]
    names = ngram_texts(model, order, previous)
    probs = model.prob[start:stop].tolist()
    if order < model.order:
        backoffs = model.backoff[start:stop].tolist()
        lines = [f"{format_decimal(p)}\t{s}\t{format_decimal(b)}\n" for p, s, b in zip(probs, names, backoffs)]
    else:
        lines = [f"{format_decimal(p)}\t{s}\n" for p, s in zip(probs, names)]
    return "".join(lines), names


def write_arpa(model: NGramModel, path: str | Path, chunk: int = 1 << 18, threads: int = 2) -> None:
    """Write `model` as ARPA (atomically; compressed by suffix). Memory: O(bytes of `chunk` lines x threads)."""
    from corpuskit.lm.ngram import kernels

    path = str(path)
    encoded = [to_bytes(w) for w in model.words]
    word_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    word_start = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=word_start[1:])
    with atomic_write(path, "wb") as raw:
        out = _compressed_writer(raw, path)
        header = ["\\data\\\n"] + [f"ngram {k}={n}\n" for k, n in enumerate(model.counts(), start=1)]
        out.write("".join(header).encode())
        with ThreadPoolExecutor(max_workers=max(1, min(threads, os.cpu_count() or 1))) as pool:
            for k in range(1, model.order + 1):
                out.write(f"\n\\{k}-grams:\n".encode())
                spans = [(a, min(a + chunk, int(model.offsets[k]))) for a in range(int(model.offsets[k - 1]), int(model.offsets[k]), chunk)]
                # the kernel releases the GIL: chunks format in parallel and are written in order
                parts = pool.map(lambda span, k=k: kernels.format_arpa_lines(span[0], span[1], k, model.parent, model.word, model.prob,
                                                                           model.backoff, k < model.order, word_bytes, word_start), spans)
                for lines in parts:
                    out.write(memoryview(lines))
        out.write(b"\n\\end\\\n")
        if out is not raw:
            out.close()


def read_arpa(path: str | Path) -> NGramModel:
    """Read an ARPA file; a malformed one is a CorpusError naming the file and line.

    Well-formed tab-separated files (what KenLM, SRILM and we write) take a vectorised path
    (pyarrow's CSV parser, a numba trie insert); anything it cannot take, malformed input
    included, is read line by line by `read_arpa_lines`, which names the bad line.
    Memory: O(file size) on the fast path, O(n-grams) either way.
    """
    try:
        model = _read_arpa_fast(str(path))
    except Exception as exc:  # noqa: BLE001 - any surprise: the careful reader decides
        log.debug("%s: fast ARPA path declined (%s); reading line by line", path, exc)
        model = None
    return model if model is not None else read_arpa_lines(path)


class _Decline(Exception):
    """The fast ARPA path cannot take this file (the line reader will, or will say why not)."""


def _read_arpa_fast(path: str) -> NGramModel | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    from corpuskit.files import open_binary
    from corpuskit.lm.ngram import kernels

    with open_binary(path) as handle:
        data = handle.read()
    start = data.find(b"\\data\\")
    if start < 0:
        return None
    header_end = data.find(b"\\1-grams:", start)
    if header_end < 0:
        return None
    declared: list[int] = []
    for line in data[start:header_end].decode().splitlines()[1:]:
        if line.strip():
            k_text, _, n_text = line.strip()[6:].partition("=")
            if not line.startswith("ngram ") or int(k_text) != len(declared) + 1:
                return None
            declared.append(int(n_text))
    order = len(declared)
    bounds = []
    at = header_end
    for k in range(1, order + 1):
        head = f"\\{k}-grams:".encode()
        if data[at : at + len(head)] != head:
            return None
        body = data.find(b"\n", at) + 1
        nxt = data.find(f"\\{k + 1}-grams:".encode(), body) if k < order else data.find(b"\\end\\", body)
        if nxt < 0:
            return None
        bounds.append((body, nxt))
        at = nxt
    parse = csv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False)

    def section(k: int) -> "pa.Table":
        names = ["p", "w", "b"] if k < order else ["p", "w"]
        types = {"p": pa.float64(), "w": pa.binary(), "b": pa.float64()}
        body = data[bounds[k - 1][0] : bounds[k - 1][1]]
        table = csv.read_csv(pa.py_buffer(body), read_options=csv.ReadOptions(column_names=names), parse_options=parse,
                             convert_options=csv.ConvertOptions(column_types={n: types[n] for n in names}))
        if table.num_rows != declared[k - 1]:
            raise _Decline(f"order {k}: {table.num_rows} rows, {declared[k - 1]} declared")
        return table

    uni = section(1)
    uni_words = [w.decode("utf-8", errors="surrogateescape") for w in uni.column("w").to_pylist()]
    words = list(SPECIALS) + [w for w in uni_words if w not in SPECIALS]
    if len(set(words)) != len(words) or len(uni_words) != len(set(uni_words)):
        raise _Decline("duplicate unigram")
    v = len(words)
    position = {w: i for i, w in enumerate(words)}
    ids_1 = np.asarray([position[w] for w in uni_words], dtype=np.int64)
    total = sum(declared) + (v - len(uni_words))
    prob = np.full(total, NGramModel.LOG_ZERO)
    backoff = np.zeros(total)
    prob[ids_1] = uni.column("p").to_numpy(zero_copy_only=False)
    if order > 1:
        backoff[ids_1] = uni.column("b").fill_null(0.0).to_numpy(zero_copy_only=False)
    if len(uni_words) != v:
        log.warning("%s: ARPA file lacks some of <unk>, <s>, </s>; adding them with probability 0", path)
    parent = np.full(total, -1, dtype=np.int64)
    word = np.empty(total, dtype=np.int32)
    word[:v] = np.arange(v)
    node_order = np.ones(total, dtype=np.int64)
    capacity = 1 << max(4, int(1.5 * max(total - v, 1)).bit_length())
    table = np.zeros((capacity, 2), dtype=np.int64)
    vocab_binary = pa.array([to_bytes(w) for w in words], type=pa.binary())
    n_nodes = v
    for k in range(2, order + 1):
        sec = section(k)
        pieces = pc.split_pattern(sec.column("w"), b" ")
        if pc.any(pc.not_equal(pc.list_value_length(pieces), k)).as_py():
            raise _Decline(f"order {k}: a line without {k} words")
        ids = pc.index_in(pc.list_flatten(pieces), value_set=vocab_binary)
        if ids.null_count:
            raise _Decline(f"order {k}: unknown word")
        matrix = ids.to_numpy(zero_copy_only=False).astype(np.int32).reshape(-1, k)
        before = n_nodes
        n_nodes, bad = kernels.insert_ngrams(matrix, table, parent, word, n_nodes, v)
        if bad >= 0:
            raise _Decline(f"order {k}: missing context or duplicate n-gram")
        prob[before:n_nodes] = sec.column("p").to_numpy(zero_copy_only=False)
        if k < order:
            backoff[before:n_nodes] = sec.column("b").fill_null(0.0).to_numpy(zero_copy_only=False)
        node_order[before:n_nodes] = k
    if n_nodes != total:
        raise _Decline("node count")
    if np.isnan(prob).any() or (prob > 0).any() or np.isnan(backoff).any():
        raise _Decline("a probability > 0 or a NaN")
    return NGramModel.from_nodes(words, order, parent, word, node_order, prob, backoff, None, {"source": Path(path).name})


def read_arpa_lines(path: str | Path) -> NGramModel:
    """Read an ARPA file line by line (any whitespace layout); errors name the file and line."""
    path = str(path)
    declared: list[int] = []
    words: list[str] = list(SPECIALS)
    index: dict[str, int] = {w: i for i, w in enumerate(SPECIALS)}
    unigram_prob: dict[int, tuple[float, float]] = {}
    node_of: dict[tuple[int, ...], int] = {}
    parent: list[int] = []
    word: list[int] = []
    node_order: list[int] = []
    prob: list[float] = []
    backoff: list[float] = []
    section = "start"
    seen = 0
    order = 0
    lineno = 0

    def fail(message: str) -> CorpusError:
        return CorpusError(f"{path}:{lineno}: {message}")

    def close_section() -> None:
        if order and seen != declared[order - 1]:
            raise fail(f"\\data\\ declares ngram {order}={declared[order - 1]} but the \\{order}-grams: section has {seen}")

    with _CheckedLines(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if section == "start":
                if line.strip() == "\\data\\":
                    section = "data"
                continue
            if not line.strip():
                continue
            if line.startswith("\\"):
                close_section()
                if line.strip() == "\\end\\":
                    section = "end"
                    break
                head = line.strip()
                if not (head.startswith("\\") and head.endswith("-grams:") and head[1:-7].isdigit()):
                    raise fail(f"expected a section header like \\2-grams:, got {line!r}")
                k = int(head[1:-7])
                if k != order + 1 or k > len(declared):
                    raise fail(f"unexpected section \\{k}-grams: (after order {order}, {len(declared)} declared)")
                if k == 2:
                    _add_unigrams(unigram_prob, words, parent, word, node_order, prob, backoff)
                order, seen, section = k, 0, "grams"
                continue
            if section == "data":
                if not line.startswith("ngram ") or "=" not in line:
                    raise fail(f"expected 'ngram N=COUNT' in \\data\\, got {line!r}")
                k_text, _, n_text = line[6:].partition("=")
                try:
                    k, n = int(k_text), int(n_text)
                except ValueError:
                    raise fail(f"expected 'ngram N=COUNT' in \\data\\, got {line!r}") from None
                if k != len(declared) + 1 or n < 0:
                    raise fail(f"\\data\\ lists order {k} after {len(declared)} orders")
                declared.append(n)
                continue
            if section != "grams":
                raise fail(f"unexpected line {line!r}")
            fields = line.split("\t") if "\t" in line else line.split()
            if "\t" in line:
                if len(fields) not in (2, 3):
                    raise fail(f"expected 'log10prob<TAB>{order} words[<TAB>backoff]', got {line!r}")
                gram = fields[1].split()
                extra = fields[2:]
            else:
                gram = fields[1 : 1 + order]
                extra = fields[1 + order :]
            if len(gram) != order or len(extra) > 1:
                raise fail(f"expected {order} words and at most one backoff, got {line!r}")
            try:
                p = float(fields[0])
                b = float(extra[0]) if extra else 0.0
            except ValueError:
                raise fail(f"expected numbers for probability and backoff, got {line!r}") from None
            if order == len(declared) and extra:
                raise fail("the highest order has no backoff column")
            if not p <= 0.0 or b != b:  # NaN fails both comparisons
                raise ModelFileError(f"{path}:{lineno}", "a log10 probability <= 0 and a numeric backoff", repr(line))
            seen += 1
            if order == 1:
                w = gram[0]
                idx = index.get(w)
                if idx is None:
                    idx = index[w] = len(words)
                    words.append(w)
                if idx in unigram_prob:
                    raise fail(f"duplicate unigram {w!r}")
                unigram_prob[idx] = (p, b)
                continue
            try:
                ids = tuple(index[w] for w in gram)
            except KeyError as exc:
                raise fail(f"word {exc.args[0]!r} is not among the unigrams") from None
            ctx = node_of.get(ids[:-1]) if order > 2 else ids[0]
            if ctx is None:
                raise fail(f"context {' '.join(gram[:-1])!r} of this n-gram is not listed")
            if ids in node_of:
                raise fail(f"duplicate n-gram {' '.join(gram)!r}")
            node_of[ids] = len(parent)
            parent.append(ctx)
            word.append(ids[-1])
            node_order.append(order)
            prob.append(p)
            backoff.append(b)
    if section == "start":
        raise CorpusError(f"{path}: no \\data\\ section: not an ARPA file")
    if section != "end":
        raise CorpusError(f"{path}:{lineno}: file ends before \\end\\")
    if order != len(declared):
        raise CorpusError(f"{path}: \\data\\ declares {len(declared)} orders but only {order} sections follow")
    if order == 1:
        _add_unigrams(unigram_prob, words, parent, word, node_order, prob, backoff)
    n = len(parent)
    return NGramModel.from_nodes(words, order, np.asarray(parent, dtype=np.int64), np.asarray(word, dtype=np.int32),
                                 np.asarray(node_order), np.asarray(prob), np.asarray(backoff), np.arange(n), {"source": Path(path).name})


def _add_unigrams(unigram_prob, words, parent, word, node_order, prob, backoff) -> None:
    """Unigram nodes are the word ids; <unk>/<s>/</s> missing from the file get log10 0 = -99."""
    for special in SPECIALS:
        if SPECIALS.index(special) not in unigram_prob:
            log.warning("ARPA file has no %s unigram; adding it with probability 0", special)
    # unigrams must come first, as nodes 0..V-1, so they are inserted ahead of the higher orders
    assert not parent
    for idx in range(len(words)):
        p, b = unigram_prob.get(idx, (NGramModel.LOG_ZERO, 0.0))
        parent.append(-1)
        word.append(idx)
        node_order.append(1)
        prob.append(p)
        backoff.append(b)


class _CheckedLines:
    """The lines of an ARPA file (compressed too); a cut or damaged stream is a ModelFileError
    naming the file and the last line read, not a bare EOFError."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.handle = open_text(path)

    def __enter__(self) -> "_CheckedLines":
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def __iter__(self) -> Iterator[str]:
        count = 0
        try:
            for count, line in enumerate(self.handle, start=1):
                yield line
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            found = f"a file that breaks after line {count} (truncated or damaged: {type(exc).__name__}: {exc})"
            raise ModelFileError(self.path, "an ARPA file", found) from None
