"""Writers' `chunk` option: chunk boundaries and overlap, ids and offsets, documents vs chunks."""

from __future__ import annotations

import json

import pytest

from corpuskit.document import Document
from corpuskit.pipeline import load_config, run_pipeline
from corpuskit.pipeline.config import ConfigError
from corpuskit.readers import read_corpus
from corpuskit.writers.chunking import ChunkSpec, chunk_document, chunk_ranges
from corpuskit.writers.jsonl import JsonlWriter
from corpuskit.writers.parquet import ParquetWriter


def test_ranges_overlap_by_window_minus_stride_and_end_at_the_text_end():
    assert chunk_ranges(10, 4, 3) == [(0, 4), (3, 7), (6, 10)]
    assert chunk_ranges(11, 4, 3) == [(0, 4), (3, 7), (6, 10), (9, 11)]  # short last chunk
    assert chunk_ranges(8, 4, 4) == [(0, 4), (4, 8)]  # stride == window: no overlap
    assert chunk_ranges(4, 4, 1) == [(0, 4)]
    for length in range(1, 40):
        for window in range(1, 9):
            for stride in range(1, window + 1):
                ranges = chunk_ranges(length, window, stride)
                assert ranges[0][0] == 0 and ranges[-1][1] == length
                assert all(b - a == window for a, b in ranges[:-1]) and 0 < ranges[-1][1] - ranges[-1][0] <= window
                assert all(n[0] - p[0] == stride for p, n in zip(ranges, ranges[1:]))  # overlap = window - stride
                assert len(ranges) == 1 or ranges[-2][1] < length  # no chunk wholly inside the one before


def test_character_chunks_carry_ids_offsets_and_metadata():
    doc = Document("d", "abcdefghij", {"lang": "en"})
    chunks = chunk_document(doc, ChunkSpec(window=4, stride=3))
    assert [c.id for c in chunks] == ["d#0", "d#1", "d#2"]
    assert [c.text for c in chunks] == ["abcd", "defg", "ghij"]
    for chunk in chunks:
        assert chunk.metadata["lang"] == "en" and chunk.metadata["chunk_of"] == "d"
        assert doc.text[chunk.metadata["chunk_start"] : chunk.metadata["chunk_end"]] == chunk.text
    assert [c.metadata["chunk_index"] for c in chunks] == [0, 1, 2]
    assert "chunk_of" not in doc.metadata  # the document itself is not changed
    short = Document("s", "abcd", {})
    assert chunk_document(short, ChunkSpec(window=4, stride=2)) == [short]  # short documents untouched


def test_token_chunks_are_whitespace_words_keeping_the_original_spacing():
    doc = Document("d", "one two  three\nfour five six seven", {})
    chunks = chunk_document(doc, ChunkSpec(window=3, stride=2, unit="tokens"))
    assert [c.text for c in chunks] == ["one two  three", "three\nfour five", "five six seven"]
    assert [(c.metadata["chunk_start"], c.metadata["chunk_end"]) for c in chunks] == [(0, 14), (9, 24), (20, 34)]
    assert chunk_document(Document("e", "  a b c  ", {}), ChunkSpec(window=3, stride=1, unit="tokens"))[0].id == "e"


@pytest.mark.parametrize("options, message", [
    ({"window": 4, "stride": 5}, "stride 5 > window 4"),
    ({"window": 0}, "window must be"),
    ({"window": 4, "stride": 2, "unit": "bytes"}, "unit must be"),
    ({"window": 4, "size": 2}, "unknown key"),
])
def test_bad_chunk_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        JsonlWriter(chunk=options)


@pytest.mark.parametrize("writer", [JsonlWriter(compression="none", max_docs=4, chunk={"window": 5, "stride": 3}), ParquetWriter(max_docs=4, batch_size=3, chunk={"window": 5, "stride": 3})])
def test_files_count_documents_and_chunks_apart(tmp_path, writer):
    docs = [Document(f"d{i}", "x" * n, {}) for i, n in enumerate((3, 7, 11, 14))]  # 1, 2, 3, 4 records
    files = writer.write_all(iter(docs), tmp_path, "part-00000")
    assert sum(f["chunks"] for f in files) == 10 and [f["chunks"] for f in files] == [4, 4, 2]
    assert sum(f["documents"] for f in files) == 4
    assert [f["documents"] for f in files] == [3, 1, 0]  # a document counts in the file of its first chunk
    back = list(read_corpus([str(tmp_path / f["path"]) for f in files]))
    assert [d.id for d in back] == ["d0", "d1#0", "d1#1", "d2#0", "d2#1", "d2#2", "d3#0", "d3#1", "d3#2", "d3#3"]
    assert {k: v for k, v in back[5].metadata.items() if k.startswith("chunk")} == {"chunk_of": "d2", "chunk_index": 2, "chunk_start": 6, "chunk_end": 11}


def test_pipeline_accounting_counts_documents_and_the_manifest_counts_chunks(tmp_path):
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": f"r{i}", "text": "w " * (10 * i)}) + "\n" for i in range(6)))
    cfg = tmp_path / "p.yaml"
    cfg.write_text("inputs:\n  paths: [in.jsonl]\noutput:\n  dir: out\n  options: {compression: none, chunk: {window: 20, stride: 15, unit: tokens}}\nexecutor: {workers: 1}\n")
    summary = run_pipeline(load_config(cfg))
    assert summary["documents"]["kept"] == 6 and summary["documents"]["input"] == 6
    records = list(read_corpus([str(tmp_path / "out")]))
    # 0, 10, 20 words: one record each; 30 -> 2; 40 -> 3 (0-20, 15-35, 30-40); 50 -> 3
    assert summary["chunks"] == len(records) == 1 + 1 + 1 + 2 + 3 + 3
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["documents"] == 6 and manifest["chunks"] == 11
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs:\n  paths: [in.jsonl]\noutput:\n  dir: out2\n  options: {chunk: {window: 10, stride: 11}}\n")
    with pytest.raises(ConfigError, match="stride 11 > window 10"):
        load_config(bad)
