"""File helpers shared by readers and writers: compressed streams, atomic writes, input expansion."""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import json
import lzma
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

COMPRESSION_SUFFIXES = (".gz", ".zst", ".bz2", ".xz")


def strip_compression(name: str) -> str:
    """'a.jsonl.gz' -> 'a.jsonl'."""
    for suffix in COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def open_binary(path: str | Path) -> IO[bytes]:
    """Open a file for streaming reads, decompressing .gz/.zst/.bz2/.xz on the fly."""
    path = str(path)
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    if path.endswith(".xz"):
        return lzma.open(path, "rb")
    if path.endswith(".zst"):
        import zstandard

        raw = open(path, "rb")
        return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
    return open(path, "rb")


def open_text(path: str | Path) -> IO[str]:
    """Open text for streaming reads; invalid UTF-8 bytes survive as surrogate escapes.

    Keeping them (instead of failing or replacing) lets the normalize step apply the user's
    invalid-UTF-8 policy with the document in hand.
    """
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors="surrogateescape", newline="")


@contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Write to a temporary file beside `path`, then rename it into place.

    A crash leaves either the old file or no file, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private (0600); ours are ordinary files
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | Path, obj: object) -> None:
    """Write `obj` as indented JSON, atomically."""
    with atomic_write(path, "w") as handle:
        json.dump(obj, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def expand_inputs(patterns: list[str] | tuple[str, ...] | str) -> list[Path]:
    """Expand files, globs and directories into a sorted, de-duplicated list of files.

    A directory holding a corpuskit `manifest.json` (pipeline output) expands to the files the
    manifest lists; any other directory expands to every file below it (hidden files skipped).
    A pattern that matches nothing is an error naming it.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found.extend(_expand_directory(path))
        elif path.is_file():
            found.append(path)
        else:
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise FileNotFoundError(f"{pattern}: no such file, directory or glob match")
            for match in matches:
                found.extend(_expand_directory(Path(match)) if Path(match).is_dir() else [Path(match)])
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(str(path), path)
    return sorted(unique.values(), key=str)


def _expand_directory(directory: Path) -> list[Path]:
    manifest = directory / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        return [directory / entry["path"] for entry in data.get("files", [])]
    return sorted(
        p for p in directory.rglob("*") if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(directory).parts)
    )


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Fill a fresh temporary folder beside `path`, then rename it to `path`.

    A folder left by an interrupted attempt is replaced; a crash leaves no partial `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
