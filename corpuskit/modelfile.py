"""One file convention for models and counts: npz arrays + JSON metadata + a format tag with a version.

A file is a zip archive that `numpy.load` reads (`allow_pickle=False`): one `.npy` member per
array, plus `__meta__.npy`, the UTF-8 bytes of `{"format": ..., "version": ..., "meta": {...}}`.
Members are written in sorted order with a fixed timestamp, so equal contents give byte-identical
files. Anything wrong with a file (empty, truncated, not npz, another format, a newer version) is
a `ModelFileError` that names the file, what was expected and what was found.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.files import atomic_write

META_NAME = "__meta__"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: no wall clock in the bytes


class ModelFileError(CorpusError, ValueError):
    """A model, counts or tokenizer file that is malformed, truncated or of another format or version.

    It is a ValueError too, so callers that caught the ValueError bad tokenizer files used to raise
    keep working.
    """

    def __init__(self, path: str | Path, expected: str, found: str) -> None:
        self.path, self.expected, self.found = str(path), expected, found
        super().__init__(f"{path}: expected {expected}, found {found}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.expected, self.found))  # crosses process boundaries (worker pools)


def save_arrays(path: str | Path, format: str, version: int, arrays: dict[str, np.ndarray], meta: dict[str, Any], compress: bool = False) -> None:
    """Write `arrays` and JSON-able `meta` under the tag `format`/`version`, atomically.

    Object arrays are refused (they would need pickle to load). Memory: one array's bytes at a time.
    """
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}")
    for name, array in arrays.items():
        if name == META_NAME or not name or "/" in name:
            raise ValueError(f"array name {name!r} is reserved or not a plain name")
        if np.asarray(array).dtype.hasobject:
            raise ValueError(f"array {name!r} holds Python objects; store numbers or fixed-width strings")
    header = json.dumps({"format": format, "version": version, "meta": meta}, ensure_ascii=False, sort_keys=True, allow_nan=False)
    members = {META_NAME: np.frombuffer(header.encode("utf-8"), dtype=np.uint8), **arrays}
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_write(path, "wb") as handle, zipfile.ZipFile(handle, "w", compression=method, allowZip64=True) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.compress_type = method
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(members[name]), allow_pickle=False)


def load_arrays(path: str | Path, format: str, max_version: int, required: tuple[str, ...] = ()) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by `save_arrays`: (arrays by name, meta), after checking tag and version.

    `required` names arrays that must be present. Memory: every array of the file.
    """
    path = Path(path)
    expected = f"a {format} file (version <= {max_version})"
    if not path.is_file():
        raise ModelFileError(path, expected, "no such file" if not path.exists() else "a directory")
    if path.stat().st_size == 0:
        raise ModelFileError(path, expected, "an empty file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(path, expected, "a file that is not an npz archive (not a zip, or truncated)")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for name in data.files:
                try:
                    arrays[name] = data[name]
                except Exception as exc:  # noqa: BLE001 - zlib, zipfile and numpy all fail differently on damage
                    raise ModelFileError(path, expected, f"a damaged array {name!r} ({type(exc).__name__})") from None
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(path, expected, f"an unreadable npz archive ({type(exc).__name__})") from None
    header = _header(path, arrays.pop(META_NAME, None), expected)
    if header["format"] != format:
        raise ModelFileError(path, expected, f"format {header['format']!r} version {header['version']}")
    if header["version"] > max_version:
        raise ModelFileError(path, expected, f"version {header['version']}, written by a newer corpuskit")
    missing = [name for name in required if name not in arrays]
    if missing:
        raise ModelFileError(path, expected, f"no array {', '.join(map(repr, missing))} (arrays: {', '.join(sorted(arrays)) or 'none'})")
    return arrays, header["meta"]


def _header(path: Path, raw: np.ndarray | None, expected: str) -> dict[str, Any]:
    if raw is None:
        raise ModelFileError(path, expected, "an npz archive without corpuskit metadata")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(path, expected, f"metadata of dtype {raw.dtype} and shape {raw.shape}, not bytes")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(path, expected, f"metadata that is not JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict) or not isinstance(header.get("format"), str) or not isinstance(header.get("meta"), dict):
        raise ModelFileError(path, expected, "metadata without a format tag and a meta object")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(path, expected, f"format {header['format']!r} with an invalid version {version!r}")
    return header

