"""Smaller input and setting defects: each refused or handled with a message naming the culprit."""

from __future__ import annotations

import errno
import json
import os

import pytest

from corpuskit.document import Document
from corpuskit.files import atomic_write
from corpuskit.pipeline import ConfigError, load_config
from corpuskit.readers import read_corpus
from corpuskit.writers.jsonl import JsonlWriter
from corpuskit.writers.parquet import ParquetWriter


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz", "a.txt"])
def test_a_utf8_byte_order_mark_costs_no_record(tmp_path, name):
    import gzip

    data = "\ufeff" + "".join(json.dumps({"id": f"r{i}", "text": f"line {i}"}) + "\n" for i in range(3))
    path = tmp_path / name
    path.write_bytes(gzip.compress(data.encode()) if name.endswith(".gz") else data.encode())
    docs = list(read_corpus(str(path)))
    assert len(docs) == 3
    if name.startswith("a.jsonl"):
        assert [d.id for d in docs] == ["r0", "r1", "r2"]
    else:
        assert docs[0].text.startswith('{"id"')  # the mark is not part of the first line


@pytest.mark.parametrize("options,message", [
    ({"max_docs": 0}, "max_docs must be at least 1"),
    ({"max_docs": -3}, "max_docs must be at least 1"),
    ({"max_bytes": -1}, "max_bytes must be a positive size"),
    ({"max_bytes": "0KB"}, "max_bytes must be a positive size"),
    ({"max_bytes": "lots"}, "max_bytes: not a size"),
])  # fmt: skip
@pytest.mark.parametrize("writer", ["jsonl", "parquet"])
def test_bad_file_size_limits_are_refused_when_the_config_loads(tmp_path, options, message, writer):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    config = tmp_path / "p.yaml"
    config.write_text(f"inputs:\n  paths: [a.jsonl]\nsteps: []\noutput:\n  dir: out\n  writer: {writer}\n  options: {json.dumps(options)}\n")
    with pytest.raises(ConfigError, match=f"output.options.*{message}"):
        load_config(config)
    with pytest.raises(ValueError, match=message):
        (JsonlWriter if writer == "jsonl" else ParquetWriter)(**options)


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match=r"No space left on device.*part-00000-0000\.jsonl\.gz") as info:
        JsonlWriter().write_all(iter([Document("a", "text")]), tmp_path, "part-00000")
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []  # no temporary file left
    with atomic_write(tmp_path / "ok.txt", "w") as handle:
        handle.write("fine")
    assert (tmp_path / "ok.txt").read_text() == "fine"


def test_a_full_disk_inside_an_atomic_folder_names_the_folder(tmp_path):
    from corpuskit.files import atomic_dir

    with pytest.raises(OSError, match=r"No space left on device.*map-00003") as info:
        with atomic_dir(tmp_path / "map-00003") as out:
            (out / "part.bin").write_bytes(b"x")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []
