"""One record's value never aborts a run: writers escape what their format cannot hold, and a
corrupt Parquet row group costs only its own rows."""

from __future__ import annotations

import json

import pytest

from corpuskit.document import CorpusError, Document, Rejected
from corpuskit.readers.parquet import ParquetReader
from corpuskit.writers.jsonl import JsonlWriter
from corpuskit.writers.parquet import ParquetWriter


def test_parquet_writer_keeps_lone_surrogates_in_ids_and_metadata(tmp_path):
    docs = [
        Document("fine", "plain text", {"k": "v"}),
        Document("bad\udce9id", "caf\udce9", {"title": "x\udcffy", "nested": {"a": ["\ud800"]}}),
    ]
    files = ParquetWriter().write_all(iter(docs), tmp_path, "p")
    back = [d for d in ParquetReader().read(str(tmp_path / files[0]["path"]))]
    assert [d.id for d in back] == ["fine", "bad\\udce9id"]  # escaped, as valid UTF-8 must be
    assert back[1].metadata["title"] == "x\udcffy" and back[1].metadata["nested"] == {"a": ["\ud800"]}  # lossless
    assert back[1].text.startswith("caf\ufffd")  # text: replaced, as before


@pytest.mark.parametrize("writer", [ParquetWriter(), JsonlWriter()])
def test_a_metadata_value_json_cannot_hold_is_an_error_naming_the_record(tmp_path, writer):
    docs = [Document("ok", "a"), Document("d7", "b", {"location": "in.jsonl:7", "tags": {1, 2}})]
    with pytest.raises(CorpusError, match=r"in\.jsonl:7.*(tags|set)"):
        writer.write_all(iter(docs), tmp_path, "p")
    assert not list(tmp_path.iterdir())


def _corrupt_parquet(tmp_path, groups: int = 10, rows: int = 100, bad: int = 3):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "rows.parquet"
    texts = [f"row {i} " + "words " * (i % 13) for i in range(groups * rows)]
    pq.write_table(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}), path, row_group_size=rows, compression="zstd")
    column = pq.ParquetFile(path).metadata.row_group(bad).column(1)  # the text column of group `bad`
    data = bytearray(path.read_bytes())
    start = column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
    data[start : start + column.total_compressed_size] = b"\xff" * column.total_compressed_size
    path.write_bytes(bytes(data))
    return path, texts


def test_a_corrupt_parquet_row_group_costs_only_its_own_rows(tmp_path):
    path, texts = _corrupt_parquet(tmp_path)
    items = list(ParquetReader(batch_size=64).read(str(path)))
    docs = [i for i in items if isinstance(i, Document)]
    lost = [i for i in items if isinstance(i, Rejected)]
    assert len(items) == 1000  # every row accounted for, once
    assert [d.text for d in docs] == texts[:300] + texts[400:]
    assert len(lost) == 100 and all(r.errored and r.reason == "corrupt_row_group" for r in lost)
    assert lost[0].where == f"{path}#row301" and lost[-1].where == f"{path}#row400"
    assert "row group 3 (rows 301-400)" in lost[0].detail


def test_parquet_rows_keep_their_numbers_across_row_groups(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(25)]}), path, row_group_size=7)
    docs = list(ParquetReader(batch_size=3).read(str(path)))
    assert [d.id for d in docs] == [f"ok.parquet#row{i}" for i in range(1, 26)]
    assert json.dumps([d.text for d in docs]) == json.dumps([f"t{i}" for i in range(25)])
