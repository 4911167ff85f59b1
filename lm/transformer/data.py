"""Token shards: `prepare` writes them from any corpus corpuskit reads; `TokenShards` serves training windows.

A data folder holds `manifest.json`, `tokenizer.json` (a copy) and flat binary shards of token ids
(`uint16` when the vocabulary fits, else `uint32`), one train and one validation shard per input
file, each document followed by the tokenizer's EOS. Documents go to validation by a hash of
(file name, document number): the split is by document and does not depend on worker count.
Memory while preparing: one document plus a write buffer per worker; while training: the
memory-mapped shards (pages the OS keeps or drops).
"""

from __future__ import annotations

import itertools
import os
import shutil
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from corpuskit.lm.transformer.checkpoint import read_json, write_json

EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<eos>")
FLUSH_TOKENS = 1 << 20


def load_tokenizer(path: str | Path) -> Any:
    """The tokenizer class registered as `default` under `corpuskit.tokenizers`, loaded from `path`.

    Through the registry, so `lm/` never imports `tokenizers/` (plugins do not know each other).
    """
    from corpuskit import registry

    cls = registry.load("tokenizers", "default")
    return cls.from_file(path)


def find_eos(tokenizer: Any, eos_token: str | None) -> tuple[int, str]:
    """(id, text) of the end-of-document token: `eos_token` if given, else the tokenizer's EOS special token.

    The EOS role is read from the special tokens (added tokens marked special), in the order of
    EOS_CANDIDATES; a plain vocabulary entry spelled `</s>` is not taken for one.
    """
    if eos_token is not None:
        tid = tokenizer.token_to_id(eos_token)
        if tid is None:
            raise ValueError(f"--eos-token {eos_token!r} is not a token of the tokenizer")
        return tid, eos_token
    specials = {t.content: t.id for t in getattr(tokenizer, "added_tokens", ()) if getattr(t, "special", False)}
    for candidate in EOS_CANDIDATES:
        if candidate in specials:
            return specials[candidate], candidate
    raise ValueError(f"the tokenizer has no EOS special token ({', '.join(EOS_CANDIDATES)}): name one of its tokens with --eos-token")


def is_validation(file_key: str, doc_index: int, fraction: float) -> bool:
    """Deterministic split by document: a CRC of (file, document number) against the fraction."""
    return (zlib.crc32(f"{file_key}\0{doc_index}".encode()) % 1_000_000) < fraction * 1_000_000


class _ShardWriter:
    """Appends ids to `<path>.tmp` in buffered chunks; `close` renames it into place."""

    def __init__(self, path: Path, dtype: np.dtype) -> None:
        self.path, self.dtype = path, dtype
        self.tmp = path.with_name(path.name + ".tmp")
        self.handle = open(self.tmp, "wb")
        self.buffer: list[int] = []
        self.tokens = self.documents = self.bytes = 0

    def add(self, ids: Sequence[int], eos: int, text_bytes: int) -> None:
        self.buffer.extend(ids)
        self.buffer.append(eos)
        self.tokens += len(ids) + 1
        self.documents += 1
        self.bytes += text_bytes + 1  # the EOS stands for one separator byte
        if len(self.buffer) >= FLUSH_TOKENS:
            self.flush()

    def flush(self) -> None:
        np.asarray(self.buffer, dtype=self.dtype).tofile(self.handle)
        self.buffer = []

    def close(self) -> dict[str, Any]:
        self.flush()
        self.handle.close()
        os.replace(self.tmp, self.path)
        return {"file": self.path.name, "tokens": self.tokens, "documents": self.documents, "bytes": self.bytes}


def _prepare_file(job: tuple[int, str, str, str, int, float, str]) -> list[dict[str, Any]]:
    """Tokenise one input file into its train and validation shards (runs in a worker process)."""
    index, path, tokenizer_path, out, eos, val_fraction, dtype_name = job
    from corpuskit.readers import iter_texts

    tokenizer = load_tokenizer(tokenizer_path)
    dtype = np.dtype(dtype_name)
    writers = {split: _ShardWriter(Path(out) / f"{split}_{index:05d}.bin", dtype) for split in ("train", "val")}
    key = Path(path).name
    seen = 0
    texts = iter_texts(path)
    while True:
        batch = list(itertools.islice(texts, 512))  # encode_batch's fast path wants many texts at once
        if not batch:
            break
        for n, ids in enumerate(tokenizer.encode_batch(batch, add_special_tokens=False)):
            split = "val" if is_validation(key, seen + n, val_fraction) else "train"
            writers[split].add(ids, eos, len(batch[n].encode("utf-8")))
        seen += len(batch)
    return [dict(w.close(), split=split, source=path) for split, w in writers.items()]


def prepare(
    inputs: Sequence[str], tokenizer_path: str | Path, out: str | Path, eos_token: str | None = None, val_fraction: float = 0.01, workers: int = 1
) -> dict[str, Any]:
    """Tokenise `inputs` into shards under `out`, in parallel over input files; returns the manifest."""
    from corpuskit.files import expand_inputs

    if not 0.0 <= val_fraction < 1.0:
        raise ValueError("--val-fraction must be in [0, 1)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer(tokenizer_path)
    eos, eos_text = find_eos(tokenizer, eos_token)
    vocab = int(tokenizer.vocab_size)
    dtype = "uint16" if vocab <= 1 << 16 else "uint32"
    files = [str(p) for p in expand_inputs(list(inputs))]
    if not files:
        raise ValueError(f"no input files in {list(inputs)}")
    jobs = [(i, f, str(tokenizer_path), str(out), eos, val_fraction, dtype) for i, f in enumerate(files)]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs))) as pool:
            results = list(pool.map(_prepare_file, jobs))
    else:
        results = [_prepare_file(job) for job in jobs]
    shards = [s for part in results for s in part]
    shutil.copyfile(tokenizer_path, out / "tokenizer.json.tmp")
    os.replace(out / "tokenizer.json.tmp", out / "tokenizer.json")
    manifest = {
        "format": "corpuskit.transformer.shards/1",
        "dtype": dtype,
        "vocab_size": vocab,
        "eos_id": eos,
        "eos_token": eos_text,
        "tokenizer": "tokenizer.json",
        "val_fraction": val_fraction,
        "shards": shards,
        "totals": {split: {k: sum(s[k] for s in shards if s["split"] == split) for k in ("tokens", "documents", "bytes")} for split in ("train", "val")},
    }
    write_json(out / "manifest.json", manifest)
    return manifest


@dataclass
class TokenShards:
    """Memory-mapped shards of one split; random windows for training, fixed windows for evaluation."""

    arrays: list[np.ndarray]
    manifest: dict[str, Any]

    @classmethod
    def open(cls, folder: str | Path, split: str) -> "TokenShards":
        folder = Path(folder)
        if not (folder / "manifest.json").exists():
            raise FileNotFoundError(f"{folder}: no manifest.json (make one with `corpuskit lm transformer prepare`)")
        manifest = read_json(folder / "manifest.json")
        arrays = []
        for shard in manifest["shards"]:
            if shard["split"] != split or shard["tokens"] == 0:
                continue
            arr = np.memmap(folder / shard["file"], dtype=manifest["dtype"], mode="r")
            if arr.size != shard["tokens"]:
                raise ValueError(f"{folder / shard['file']}: {arr.size} tokens, manifest says {shard['tokens']}")
            arrays.append(arr)
        return cls(arrays, manifest)

    @property
    def tokens(self) -> int:
        return sum(a.size for a in self.arrays)

    def sample(self, rng: np.random.Generator, batch: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
        """`batch` random windows of seq_len + 1 tokens (inputs, targets shifted by one); shards weighted by size."""
        usable = np.array([max(0, a.size - seq_len) for a in self.arrays], dtype=np.float64)
        if usable.sum() == 0:
            raise ValueError(f"no shard holds more than seq_len={seq_len} tokens ({self.tokens} in all): prepare more text or lower --seq-len")
        which = rng.choice(len(self.arrays), size=batch, p=usable / usable.sum())
        x = np.empty((batch, seq_len), dtype=np.int64)
        y = np.empty((batch, seq_len), dtype=np.int64)
        for r, s in enumerate(which):
            start = int(rng.integers(0, usable[s]))
            window = np.asarray(self.arrays[s][start : start + seq_len + 1], dtype=np.int64)
            x[r], y[r] = window[:-1], window[1:]
        return x, y

    def windows(self, seq_len: int, max_tokens: int | None = None) -> "list[tuple[np.ndarray, np.ndarray]]":
        """Consecutive windows covering the split (the last one shorter), up to max_tokens targets."""
        out = []
        budget = max_tokens if max_tokens is not None else self.tokens
        for arr in self.arrays:
            for start in range(0, arr.size - 1, seq_len):
                if budget <= 0:
                    return out
                end = min(arr.size - 1, start + seq_len, start + budget)
                window = np.asarray(arr[start : end + 1], dtype=np.int64)
                out.append((window[None, :-1], window[None, 1:]))
                budget -= end - start
        return out
