"""The npz + JSON model-file convention: round trips, byte-identical files, clear errors on bad files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from corpuskit.document import CorpusError
from corpuskit.modelfile import ModelFileError, load_arrays, save_arrays

ARRAYS = {
    "counts": np.array([3, 1 << 40, 0], dtype=np.int64),
    "words": np.array(["a", "bé", "中文"]),
    "matrix": np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2],  # not contiguous
    "empty": np.zeros((0, 5), dtype=np.int32),
}


def test_round_trip_keeps_arrays_meta_and_dtypes(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    save_arrays(path, "test.thing", 2, ARRAYS, {"order": 3, "names": ["x", "ÿ"], "nested": {"a": None}})
    arrays, meta = load_arrays(path, "test.thing", 2, required=("counts", "words"))
    assert meta == {"order": 3, "names": ["x", "ÿ"], "nested": {"a": None}}
    assert arrays.keys() == ARRAYS.keys()
    for name, array in ARRAYS.items():
        assert arrays[name].dtype == array.dtype and arrays[name].shape == array.shape
        assert np.array_equal(arrays[name], array)
    assert load_arrays(path, "test.thing", 5)[1]["order"] == 3  # an older version is read
    with np.load(path, allow_pickle=False) as plain:  # an ordinary npz for numpy
        assert np.array_equal(plain["counts"], ARRAYS["counts"])


@pytest.mark.parametrize("compress", [False, True])
def test_equal_contents_give_byte_identical_files(tmp_path: Path, compress: bool) -> None:
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    save_arrays(a, "test.thing", 1, ARRAYS, {"x": 1, "y": 2}, compress=compress)
    save_arrays(b, "test.thing", 1, dict(reversed(list(ARRAYS.items()))), {"y": 2, "x": 1}, compress=compress)
    assert a.read_bytes() == b.read_bytes()
    save_arrays(b, "test.thing", 1, {**ARRAYS, "counts": ARRAYS["counts"] + 1}, {"x": 1, "y": 2}, compress=compress)
    assert a.read_bytes() != b.read_bytes()


def _message(path: Path, expected_format: str = "test.thing", max_version: int = 1) -> str:
    with pytest.raises(ModelFileError) as info:
        load_arrays(path, expected_format, max_version, required=("counts",))
    assert isinstance(info.value, CorpusError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith(f"{path}: expected a {expected_format} file")
    return message


def test_bad_files_name_the_file_what_was_expected_and_what_was_found(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    save_arrays(good, "test.thing", 1, ARRAYS, {})
    data = good.read_bytes()

    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    assert "an empty file" in _message(empty)

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    assert "not an npz archive" in _message(truncated)

    text = tmp_path / "text.npz"
    text.write_text("hello\x00\x01 world\n" * 10)
    message = _message(text)
    assert "not an npz archive" in message and "hello" not in message  # no raw bytes in messages

    npy = tmp_path / "single.npy"
    np.save(npy, np.arange(3))
    assert "not an npz archive" in _message(npy)

    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, counts=np.arange(3))
    assert "without corpuskit metadata" in _message(foreign)

    other = tmp_path / "other.npz"
    save_arrays(other, "test.other", 1, ARRAYS, {})
    assert "found format 'test.other' version 1" in _message(other)

    newer = tmp_path / "newer.npz"
    save_arrays(newer, "test.thing", 3, ARRAYS, {})
    assert "version 3, written by a newer corpuskit" in _message(newer, max_version=2)

    missing = tmp_path / "missing.npz"
    save_arrays(missing, "test.thing", 1, {"words": ARRAYS["words"]}, {})
    assert "no array 'counts'" in _message(missing)

    absent = tmp_path / "absent.npz"
    assert "no such file" in _message(absent)

    # A worker process's error reaches the parent rebuilt from __reduce__: the rebuilt error is whole.
    rebuild, args = ModelFileError(absent, "a test.thing file", "no such file").__reduce__()[:2]
    error = rebuild(*args)
    assert (error.path, error.expected, error.found, str(error)) == (str(absent), "a test.thing file", "no such file", f"{absent}: expected a test.thing file, found no such file")


def test_damaged_member_and_pickled_arrays_are_model_file_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    save_arrays(good, "test.thing", 1, {"counts": np.arange(1000, dtype=np.int64)}, {})
    damaged = tmp_path / "damaged.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            raw = src.read(info)
            dst.writestr(info, raw[:-100] if info.filename == "counts.npy" else raw)  # header says 1000, data shorter
    assert "damaged array 'counts'" in _message(damaged)

    pickled = tmp_path / "pickled.npz"
    header = np.frombuffer(json.dumps({"format": "test.thing", "version": 1, "meta": {}}).encode(), dtype=np.uint8)
    np.savez(pickled, __meta__=header, counts=np.array([{"a": 1}], dtype=object))
    assert "damaged array 'counts'" in _message(pickled)

    bad_meta = tmp_path / "bad_meta.npz"
    np.savez(bad_meta, __meta__=np.frombuffer(b"{not json", dtype=np.uint8), counts=np.arange(2))
    assert "metadata that is not JSON" in _message(bad_meta)


def test_save_refuses_objects_and_reserved_names_and_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    save_arrays(path, "test.thing", 1, ARRAYS, {"keep": True})
    before = path.read_bytes()
    with pytest.raises(ValueError, match="Python objects"):
        save_arrays(path, "test.thing", 1, {"x": np.array([None, 1], dtype=object)}, {})
    with pytest.raises(ValueError, match="reserved"):
        save_arrays(path, "test.thing", 1, {"__meta__": np.arange(2)}, {})
    with pytest.raises(ValueError):
        save_arrays(path, "test.thing", 1, {"x": np.arange(2)}, {"bad": float("nan")})
    with pytest.raises(ValueError, match="version"):
        save_arrays(path, "test.thing", 0, {"x": np.arange(2)}, {})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary files left behind
