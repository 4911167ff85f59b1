"""Facebook fastText's binary model format (`.bin`, and `.ftz` with product quantization): read and write.

One module for every fastText file corpuskit reads or writes (supervised classifiers, unsupervised
subword vectors, quantized and pruned models). A file is recognised by its magic number
0x2F4F16BA and a version <= 12, never by its name (`.bin` also names word2vec binary files);
files of fastText before version 11, which had neither, by thirteen plausible arguments in a row
(read, as version 0, never written).

Layout (little-endian, as fastText writes it on every common platform):

    int32 magic, int32 version
    args: int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn,
          lrUpdateRate; float64 t
    dictionary: int32 size, nwords, nlabels; int64 ntokens, pruneidx_size;
          size x (UTF-8 bytes, NUL, int64 count, int8 type 0=word 1=label);
          pruneidx_size x (int32 bucket, int32 row)  (pruneidx_size -1: not pruned)
    uint8 quant_input; input matrix; uint8 qout; output matrix
    dense matrix: int64 rows, int64 cols, float32 rows*cols
    quantized matrix: uint8 qnorm, int64 rows, int64 cols, int32 codesize, uint8 codes[codesize],
          product quantizer, and with qnorm: uint8 norm_codes[rows], norm quantizer
    product quantizer: int32 dim, nsubq, dsub, lastdsub; float32 centroids[dim * 256]

Memory: the file's bytes, once: the matrices read are read-only views into them.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpuskit.files import atomic_write
from corpuskit.modelfile import ModelFileError

MAGIC = 0x2F4F16BA
VERSION = 12
KSUB = 256  # centroids per sub-quantizer (8-bit codes)
EOS = "</s>"
LABEL_PREFIX = "__label__"
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODELS = {1: "cbow", 2: "sg", 3: "supervised"}
_ARG_NAMES = ("dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model", "bucket", "minn", "maxn", "lr_update_rate")


@dataclass
class Args:
    """The training arguments stored in a file; `loss` and `model` as names ("softmax", "supervised")."""

    dim: int = 100
    ws: int = 5
    epoch: int = 5
    min_count: int = 1
    neg: int = 5
    word_ngrams: int = 1
    loss: str = "softmax"
    model: str = "supervised"
    bucket: int = 2_000_000
    minn: int = 0
    maxn: int = 0
    lr_update_rate: int = 100
    t: float = 1e-4


@dataclass
class ProductQuantizer:
    """fastText's product quantizer: `nsubq` sub-vectors of `dsub` floats (the last of `lastdsub`), 256 centroids each.

    `centroids` is the flat float32 array fastText stores (dim * 256): sub-quantizer m < nsubq-1
    has its centroid i at [(m*256 + i) * dsub : ... + dsub]; the last at [m*256*dsub + i*lastdsub : ...].
    """

    dim: int
    nsubq: int
    dsub: int
    lastdsub: int
    centroids: np.ndarray

    @classmethod
    def shape_for(cls, dim: int, dsub: int) -> tuple[int, int]:
        """(nsubq, lastdsub) for `dim` split into sub-vectors of `dsub`, as fastText splits it."""
        nsubq, lastdsub = dim // dsub, dim % dsub
        if lastdsub == 0:
            return nsubq, dsub
        return nsubq + 1, lastdsub

    def sub_centroids(self, m: int) -> np.ndarray:
        """Centroids of sub-quantizer m as a (256, width) view."""
        if m == self.nsubq - 1:
            start = m * KSUB * self.dsub
            return self.centroids[start : start + KSUB * self.lastdsub].reshape(KSUB, self.lastdsub)
        start = m * KSUB * self.dsub
        return self.centroids[start : start + KSUB * self.dsub].reshape(KSUB, self.dsub)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """(rows, nsubq) uint8 codes -> (rows, dim) float32 vectors."""
        parts = [self.sub_centroids(m)[codes[:, m]] for m in range(self.nsubq)]
        return np.concatenate(parts, axis=1) if parts else np.zeros((codes.shape[0], 0), np.float32)


@dataclass
class QuantMatrix:
    """A product-quantized matrix: codes per row, and optionally each row's norm quantized apart."""

    rows: int
    cols: int
    codes: np.ndarray  # uint8 (rows, nsubq)
    pq: ProductQuantizer
    norm_codes: np.ndarray | None = None  # uint8 (rows,) when the norms are quantized (qnorm)
    npq: ProductQuantizer | None = None

    def dense(self) -> np.ndarray:
        """The matrix fastText computes with: decoded rows, times their decoded norms with qnorm."""
        out = self.pq.decode(self.codes)
        if self.norm_codes is not None and self.npq is not None:
            out = out * self.npq.sub_centroids(0)[self.norm_codes, 0][:, None]
        return out.astype(np.float32)


Matrix = "np.ndarray | QuantMatrix"


@dataclass
class FastTextModel:
    """Everything a fastText file holds. `words` lists words first, then labels (types say which).

    `pruneidx` maps a bucket to its row after the words (pruned `.ftz` models); None when the
    model is not pruned. `input`/`output` are dense float32 arrays or QuantMatrix.
    """

    args: Args
    words: list[str]
    counts: np.ndarray  # int64 per entry
    types: np.ndarray  # int8 per entry: 0 word, 1 label
    ntokens: int
    input: object
    output: object
    pruneidx: dict[int, int] | None = None
    version: int = VERSION
    _word_index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def nwords(self) -> int:
        return int((self.types == 0).sum())

    @property
    def nlabels(self) -> int:
        return int((self.types == 1).sum())

    def word_index(self) -> dict[str, int]:
        """entry string -> id (words and labels)."""
        if self._word_index is None:
            self._word_index = {w: i for i, w in enumerate(self.words)}
        return self._word_index


# ---- reading ---------------------------------------------------------------------------------


class _Reader:
    """Bounded reads from the file's bytes; running past the end is a ModelFileError."""

    def __init__(self, data: bytes, path: str) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelFileError(self.path, f"a fastText model ({what} at byte {self.pos})", f"the file ends after {len(self.data)} bytes")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        """A read-only view into the file's bytes (no copy: a 1 GB model costs 1 GB, not 2)."""
        itemsize = np.dtype(dtype).itemsize
        if count < 0 or self.pos + count * itemsize > len(self.data):
            raise ModelFileError(self.path, f"a fastText model ({what} at byte {self.pos})", f"the file ends after {len(self.data)} bytes")
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += count * itemsize
        return out

    def cstring(self, what: str) -> bytes:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ModelFileError(self.path, f"a fastText model ({what}: a NUL-terminated string at byte {self.pos})", "no NUL before the end of the file")
        chunk = self.data[self.pos : end]
        self.pos = end + 1
        return chunk


def is_fasttext_file(path: str | Path) -> bool:
    """True when the file starts with fastText's magic number (whatever its name), or is an old fastText file."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_OLD_ARGS.size)
    except OSError:
        return False
    return (len(head) >= 4 and struct.unpack("<i", head[:4])[0] == MAGIC) or _is_old_header(head)


# fastText before version 11 (2017) wrote no magic number and version: the file starts with the
# arguments, its dictionary has no pruned-bucket count and its matrices no quantization flag.
# Thirteen plausible arguments in a row identify one.
_OLD_ARGS = struct.Struct("<12id")


def _is_old_header(head: bytes) -> bool:
    if len(head) < _OLD_ARGS.size:
        return False
    dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn, lr_update_rate, t = _OLD_ARGS.unpack(head[: _OLD_ARGS.size])
    return (
        0 < dim <= 100_000 and 0 < ws <= 10_000 and 0 < epoch <= 100_000 and 0 <= min_count and 0 <= neg <= 10_000
        and 0 < word_ngrams <= 100 and loss in LOSSES and model in MODELS and 0 <= bucket <= 1 << 30
        and 0 <= minn <= maxn <= 100 and lr_update_rate > 0 and 0.0 <= t < 1.0
    )


def read_fasttext(path: str | Path) -> FastTextModel:
    """Read a fastText `.bin`/`.ftz` file; anything else is a ModelFileError saying what was found."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "a fastText model file", "no such file" if not path.exists() else "a directory")
    r = _Reader(path.read_bytes(), str(path))
    if len(r.data) < 8:
        raise ModelFileError(path, "a fastText model (magic number 0x2F4F16BA)", f"a file of {len(r.data)} bytes")
    old = _is_old_header(r.data[: _OLD_ARGS.size])
    magic, version = (MAGIC, 0) if old else r.unpack("ii", "header")
    if magic != MAGIC:
        raise ModelFileError(path, "a fastText model (magic number 0x2F4F16BA)", f"magic number {magic & 0xFFFFFFFF:#010x}")
    if not old and not 11 <= version <= VERSION:
        raise ModelFileError(path, f"a fastText model of version 11..{VERSION}", f"version {version}")
    values = r.unpack("12i", "arguments")
    (t,) = r.unpack("d", "arguments")
    raw = dict(zip(_ARG_NAMES, values))
    if raw["loss"] not in LOSSES or raw["model"] not in MODELS:
        raise ModelFileError(path, "a fastText model with a known loss and model kind", f"loss {raw['loss']}, model {raw['model']}")
    raw["loss"], raw["model"] = LOSSES[raw["loss"]], MODELS[raw["model"]]
    args = Args(**raw, t=t)
    if version <= 11 and args.model == "supervised":
        args.maxn = 0  # version 11 supervised models had no subwords; fastText reads them so
    size, nwords, nlabels, ntokens, prune_size = (*r.unpack("iiiq", "dictionary header"), -1) if old else r.unpack("iiiqq", "dictionary header")
    if size < 0 or nwords < 0 or nlabels < 0 or nwords + nlabels != size:
        raise ModelFileError(path, "a dictionary whose size is nwords + nlabels", f"size {size}, nwords {nwords}, nlabels {nlabels}")
    words, counts, types = [], np.zeros(size, np.int64), np.zeros(size, np.int8)
    for i in range(size):
        words.append(r.cstring(f"dictionary entry {i}").decode("utf-8", errors="surrogateescape"))
        counts[i], types[i] = r.unpack("qb", f"dictionary entry {i}")
    if int((types == 0).sum()) != nwords:
        raise ModelFileError(path, f"{nwords} word entries", f"{int((types == 0).sum())}")
    pruneidx = None
    if prune_size >= 0:
        pairs = r.array("<i4", 2 * prune_size, "pruned bucket index").reshape(-1, 2)
        pruneidx = {int(a): int(b) for a, b in pairs}
    (quant_input,) = (0,) if old else r.unpack("B", "input quantization flag")
    input_matrix = _read_quant(r) if quant_input else _read_dense(r, "input matrix")
    if not quant_input and pruneidx is not None:
        raise ModelFileError(path, "a quantized input matrix in a pruned model", "a dense one")
    (qout,) = (0,) if old else r.unpack("B", "output quantization flag")
    output_matrix = _read_quant(r) if (quant_input and qout) else _read_dense(r, "output matrix")
    model = FastTextModel(args, words, counts, types, ntokens, input_matrix, output_matrix, pruneidx, version)
    _check_shapes(path, model)
    return model


def _read_dense(r: _Reader, what: str) -> np.ndarray:
    rows, cols = r.unpack("qq", what)
    if rows < 0 or cols < 0:
        raise ModelFileError(r.path, f"a {what} of non-negative shape", f"{rows} x {cols}")
    return r.array("<f4", rows * cols, what).reshape(rows, cols)


def _read_pq(r: _Reader) -> ProductQuantizer:
    dim, nsubq, dsub, lastdsub = r.unpack("iiii", "product quantizer")
    if dim < 0 or nsubq < 0 or dsub <= 0 or lastdsub < 0 or (nsubq and (nsubq - 1) * dsub + lastdsub != dim):
        raise ModelFileError(r.path, "a product quantizer with (nsubq-1)*dsub + lastdsub = dim", f"dim {dim}, nsubq {nsubq}, dsub {dsub}, lastdsub {lastdsub}")
    return ProductQuantizer(dim, nsubq, dsub, lastdsub, r.array("<f4", dim * KSUB, "centroids"))


def _read_quant(r: _Reader) -> QuantMatrix:
    qnorm, rows, cols, codesize = r.unpack("Bqqi", "quantized matrix")
    codes = r.array("u1", codesize, "codes")
    pq = _read_pq(r)
    if rows * pq.nsubq != codesize or pq.dim != cols:
        raise ModelFileError(r.path, f"{rows} x {pq.nsubq} codes for a {rows} x {cols} matrix", f"{codesize} codes, quantizer dim {pq.dim}")
    norm_codes = npq = None
    if qnorm:
        norm_codes = r.array("u1", rows, "norm codes")
        npq = _read_pq(r)
    return QuantMatrix(rows, cols, codes.reshape(rows, pq.nsubq), pq, norm_codes, npq)


def _check_shapes(path: Path, model: FastTextModel) -> None:
    a = model.args
    rows_in = model.input.rows if isinstance(model.input, QuantMatrix) else model.input.shape[0]
    cols_in = model.input.cols if isinstance(model.input, QuantMatrix) else model.input.shape[1]
    expected_rows = model.nwords + (len(model.pruneidx) if model.pruneidx is not None else a.bucket)
    if cols_in != a.dim or rows_in != expected_rows:
        raise ModelFileError(path, f"an input matrix of {expected_rows} x {a.dim} (words + buckets)", f"{rows_in} x {cols_in}")
    rows_out = model.output.rows if isinstance(model.output, QuantMatrix) else model.output.shape[0]
    want_out = model.nlabels if a.model == "supervised" else model.nwords
    if rows_out != want_out:
        raise ModelFileError(path, f"an output matrix of {want_out} rows", f"{rows_out}")


# ---- writing ---------------------------------------------------------------------------------


def write_fasttext(path: str | Path, model: FastTextModel) -> None:
    """Write `model` as a fastText file (quantized when its input is a QuantMatrix), atomically."""
    out = io.BytesIO()
    a = model.args
    loss_id = {v: k for k, v in LOSSES.items()}[a.loss]
    model_id = {v: k for k, v in MODELS.items()}[a.model]
    out.write(struct.pack("<ii", MAGIC, VERSION))
    values = [a.dim, a.ws, a.epoch, a.min_count, a.neg, a.word_ngrams, loss_id, model_id, a.bucket, a.minn, a.maxn, a.lr_update_rate]
    out.write(struct.pack("<12id", *values, a.t))
    prune_size = -1 if model.pruneidx is None else len(model.pruneidx)
    out.write(struct.pack("<iiiqq", len(model.words), model.nwords, model.nlabels, model.ntokens, prune_size))
    for word, count, kind in zip(model.words, model.counts.tolist(), model.types.tolist()):
        data = word.encode("utf-8", errors="surrogateescape")
        if b"\0" in data:
            raise ValueError(f"dictionary entry {word!r} holds a NUL byte, which fastText's format cannot store")
        out.write(data + b"\0" + struct.pack("<qb", count, kind))
    if model.pruneidx:
        pairs = np.array(sorted(model.pruneidx.items()), dtype="<i4")
        out.write(pairs.tobytes())
    quant = isinstance(model.input, QuantMatrix)
    out.write(struct.pack("<B", int(quant)))
    _write_matrix(out, model.input)
    if not quant and isinstance(model.output, QuantMatrix):
        raise ValueError("fastText quantizes the output matrix only when the input is quantized too")
    out.write(struct.pack("<B", int(isinstance(model.output, QuantMatrix))))
    _write_matrix(out, model.output)
    with atomic_write(path, "wb") as handle:
        handle.write(out.getbuffer())


def _write_pq(out: io.BytesIO, pq: ProductQuantizer) -> None:
    out.write(struct.pack("<iiii", pq.dim, pq.nsubq, pq.dsub, pq.lastdsub))
    out.write(np.ascontiguousarray(pq.centroids, dtype="<f4").tobytes())


def _write_matrix(out: io.BytesIO, matrix: object) -> None:
    if isinstance(matrix, QuantMatrix):
        qnorm = matrix.norm_codes is not None
        out.write(struct.pack("<Bqqi", int(qnorm), matrix.rows, matrix.cols, matrix.codes.size))
        out.write(np.ascontiguousarray(matrix.codes, dtype="u1").tobytes())
        _write_pq(out, matrix.pq)
        if qnorm:
            assert matrix.npq is not None
            out.write(np.ascontiguousarray(matrix.norm_codes, dtype="u1").tobytes())
            _write_pq(out, matrix.npq)
        return
    dense = np.ascontiguousarray(matrix, dtype="<f4")
    out.write(struct.pack("<qq", *dense.shape))
    out.write(dense.tobytes())
