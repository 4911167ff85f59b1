"""Writers: sharding by documents and bytes, atomic files, round trips, manifest."""

import json

import pytest

from corpuskit.document import Document
from corpuskit.readers import read_corpus
from corpuskit.writers.base import parse_size, write_manifest
from corpuskit.writers.jsonl import JsonlWriter
from corpuskit.writers.parquet import ParquetWriter


def docs(n, size=10):
    return (Document(id=f"d{i}", text="x" * size + f" {i}", metadata={"n": i}) for i in range(n))


@pytest.mark.parametrize("writer", [JsonlWriter(compression="gz"), JsonlWriter(compression="zst"), JsonlWriter(compression="none"), ParquetWriter(batch_size=7)])
def test_round_trip_and_shard_by_documents(tmp_path, writer):
    writer.max_docs = 10
    files = writer.write_all(docs(25), tmp_path, "part-00000")
    assert [f["documents"] for f in files] == [10, 10, 5]
    assert [f["path"] for f in files] == [f"part-00000-000{i}{writer.extension}" for i in range(3)]
    back = list(read_corpus([str(tmp_path / f["path"]) for f in files]))
    assert [d.id for d in back] == [f"d{i}" for i in range(25)]
    assert back[3].metadata["n"] == 3 and back[3].text.endswith(" 3")
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_shard_by_bytes(tmp_path):
    files = JsonlWriter(compression="none", max_bytes="1KB").write_all(docs(50, size=100), tmp_path, "p")
    assert len(files) > 3
    assert all(f["text_bytes"] <= 1024 + 200 for f in files)
    assert sum(f["documents"] for f in files) == 50


def test_no_documents_no_file(tmp_path):
    assert JsonlWriter().write_all(iter([]), tmp_path, "p") == []
    assert list(tmp_path.iterdir()) == []


def test_lone_surrogates_are_written_losslessly(tmp_path):
    files = JsonlWriter(compression="none").write_all(iter([Document("a", "caf\udce9")]), tmp_path, "p")
    line = (tmp_path / files[0]["path"]).read_bytes()
    line.decode("utf-8")  # valid UTF-8 on disk
    assert json.loads(line)["text"] == "caf\udce9"


def test_a_crash_mid_file_leaves_no_partial_file(tmp_path):
    def exploding():
        yield Document("a", "fine")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        JsonlWriter().write_all(exploding(), tmp_path, "p")
    assert list(tmp_path.iterdir()) == []


def test_manifest_lists_files(tmp_path):
    files = JsonlWriter(max_docs=2).write_all(docs(3), tmp_path, "p")
    write_manifest(tmp_path, files)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["documents"] == 3 and len(manifest["files"]) == 2


def test_parse_size():
    assert parse_size("64KB") == 65536 and parse_size("1.5 MiB") == 1572864 and parse_size(10) == 10
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_written_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    from corpuskit.files import write_json_atomic

    write_json_atomic(tmp_path / "a.json", {"x": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode) == 0o666 & ~mask
