"""Readers on good and bad input: every record becomes a document or a Rejected naming where."""

from __future__ import annotations

import bz2
import gzip
import json
import random

import pytest

from corpuskit.document import CorpusError, Document, Rejected
from corpuskit.readers import iter_texts, read_corpus, reader_for
from corpuskit.readers.jsonl import JsonlReader
from corpuskit.readers.parquet import ParquetReader
from corpuskit.readers.text import TextReader
from corpuskit.readers.warc import WarcReader, _dechunk
from corpuskit.readers.wiki import WikiDumpReader


def split(items):
    docs = [i for i in items if isinstance(i, Document)]
    rejected = [i for i in items if isinstance(i, Rejected)]
    return docs, rejected


def write_jsonl(path, records, opener=open):
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")


def test_text_reader_line_and_paragraph_modes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("first line\nsecond line\n\n\nthird\nfourth\n")
    docs, _ = split(list(TextReader().read(str(path))))
    assert [d.text for d in docs] == ["first line", "second line", "third", "fourth"]
    assert docs[2].id == "a.txt:5"
    docs, _ = split(list(TextReader(mode="paragraph").read(str(path))))
    assert [d.text for d in docs] == ["first line\nsecond line", "third\nfourth"]
    assert docs[1].metadata["location"].endswith("a.txt:5")


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".zst"])
def test_jsonl_reader_compressions_and_fields(tmp_path, suffix):
    records = [{"doc_id": i, "body": {"content": f"text {i}"}, "url": f"u{i}"} for i in range(5)]
    path = tmp_path / f"a.jsonl{suffix}"
    payload = "".join(json.dumps(r) + "\n" for r in records).encode()
    if suffix == ".gz":
        payload = gzip.compress(payload)
    elif suffix == ".bz2":
        payload = bz2.compress(payload)
    elif suffix == ".zst":
        import zstandard

        payload = zstandard.ZstdCompressor().compress(payload)
    path.write_bytes(payload)
    docs = list(read_corpus(str(path), text_field="body.content", id_field="doc_id"))
    assert [d.text for d in docs] == [f"text {i}" for i in range(5)]
    assert [d.id for d in docs] == [str(i) for i in range(5)]
    assert docs[0].metadata["url"] == "u0"


def test_malformed_json_line_and_missing_field_are_rejected_with_line_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, [{"text": "ok"}, '{"text": "unterminated', "[1, 2]", {"title": "no text"}, {"text": 5}, {"text": "ok too"}])
    docs, rejected = split(list(JsonlReader().read(str(path))))
    assert [d.text for d in docs] == ["ok", "ok too"]
    assert [(r.where.rsplit(":", 1)[1], r.reason) for r in rejected] == [
        ("2", "malformed_json"),
        ("3", "not_a_json_object"),
        ("4", "missing_text_field"),
        ("5", "text_not_a_string"),
    ]
    assert all(r.errored and str(path) in r.where for r in rejected)
    with pytest.raises(CorpusError, match=r"bad.jsonl:2: malformed_json"):
        list(read_corpus(str(path)))
    assert len(list(read_corpus(str(path), on_error="skip"))) == 2


def test_truncated_gzip_keeps_what_was_read_and_reports_the_break(tmp_path):
    payload = gzip.compress("".join(json.dumps({"text": f"document number {i} " * 20}) + "\n" for i in range(2000)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(payload[: len(payload) // 2])
    docs, rejected = split(list(JsonlReader().read(str(path))))
    assert 0 < len(docs) < 2000
    assert len(rejected) == 1 and rejected[0].reason == "truncated"
    assert rejected[0].where == f"{path}:{len(docs) + 1}" or rejected[0].where.startswith(f"{path}:")


def test_invalid_utf8_survives_reading_as_surrogate_escapes(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    (doc,) = [d for d in TextReader().read(str(path)) if isinstance(d, Document)]
    assert doc.text == "caf\udce9 au lait"


def test_binary_file_passed_as_text_is_one_rejected_record(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(5000)) + b"\x00" * 10)
    items = list(TextReader().read(str(path)))
    assert len(items) == 1 and isinstance(items[0], Rejected) and items[0].reason == "binary_file"


def test_fifty_megabyte_single_line_document(tmp_path):
    path = tmp_path / "huge.jsonl"
    text = "word " * 10_000_000
    path.write_text(json.dumps({"id": "big", "text": text}) + "\n" + json.dumps({"id": "small", "text": "x"}) + "\n")
    docs = list(read_corpus(str(path)))
    assert [d.id for d in docs] == ["big", "small"]
    assert len(docs[0].text) == 50_000_000


def test_empty_document_is_read_as_empty_text(tmp_path):
    path = tmp_path / "e.jsonl"
    write_jsonl(path, [{"text": ""}])
    (doc,) = read_corpus(str(path))
    assert doc.text == ""


def test_parquet_reader_batches_and_bad_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(2500)], "text": [f"t{i}" for i in range(2500)]}), path)
    docs = list(read_corpus(str(path), batch_size=1000))
    assert len(docs) == 2500 and docs[-1].text == "t2499" and docs[-1].id == "d2499"
    bad = tmp_path / "b.parquet"
    bad.write_bytes(b"not parquet at all")
    (item,) = ParquetReader().read(str(bad))
    assert isinstance(item, Rejected) and item.reason == "not_parquet"
    (item,) = ParquetReader(text_field="body").read(str(path))
    assert item.reason == "missing_text_field"


WIKI = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
<page><title>Alpha</title><ns>0</ns><id>1</id><revision><text>'''Alpha''' is a [[Greek alphabet|letter]]. {{cite web|x}}
== History ==
It came from [[Phoenician]].</text></revision></page>
<page><title>Beta</title><ns>0</ns><id>2</id><redirect title="Alpha"/><revision><text>#REDIRECT [[Alpha]]</text></revision></page>
<page><title>Talk:Alpha</title><ns>1</ns><id>3</id><revision><text>discussion</text></revision></page>
<page><title>Гама</title><ns>0</ns><id>4</id><revision><text>Гама е буква.</text></revision></page>
</mediawiki>"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_wiki_reader_strips_markup_and_skips_redirects(tmp_path, encoding):
    path = tmp_path / "dump.xml.bz2"
    xml = WIKI if encoding == "utf-8" else '<?xml version="1.0" encoding="UTF-16"?>\n' + WIKI
    path.write_bytes(bz2.compress(xml.encode(encoding)))  # Python's utf-16 codec writes a BOM
    docs, rejected = split(list(WikiDumpReader().read(str(path))))
    assert [d.metadata["title"] for d in docs] == ["Alpha", "Гама"]
    assert "[[" not in docs[0].text and "'''" not in docs[0].text and "letter" in docs[0].text
    assert "Phoenician" in docs[0].text
    assert sorted(r.reason for r in rejected) == ["wiki_not_article", "wiki_redirect"]
    assert not any(r.errored for r in rejected)


def test_wiki_reader_reports_malformed_xml(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text(WIKI[:400])
    docs, rejected = split(list(WikiDumpReader().read(str(path))))
    assert rejected and rejected[-1].reason == "malformed_xml" and rejected[-1].errored


def _warc(tmp_path, name="crawl.warc.gz"):
    from corpuskit.quickstart.sample import write_warc

    path = tmp_path / name
    texts = [f"Story {i}. " + "The council met on Monday to discuss the new bridge over the river. " * 5 for i in range(3)]
    write_warc(path, texts, random.Random(1))
    return path


def test_warc_reader_extracts_main_text_and_counts_skips(tmp_path):
    path = _warc(tmp_path)
    docs, rejected = split(list(WarcReader().read(str(path))))
    assert len(docs) == 3
    assert "council met on Monday" in docs[0].text
    assert "Copyright" not in docs[0].text and "Most read" not in docs[0].text  # boilerplate removed
    assert docs[0].metadata["url"].startswith("http://sample.example/news/")
    assert docs[0].metadata["date"].startswith("2001-09")
    assert sorted(r.reason for r in rejected) == ["warc_not_200", "warc_not_200", "warc_not_html"]
    assert not any(r.errored for r in rejected)


def test_truncated_warc_record_is_reported(tmp_path):
    path = _warc(tmp_path, "full.warc")
    import gzip as gz

    raw = gz.decompress(path.read_bytes())
    cut = tmp_path / "cut.warc"
    cut.write_bytes(raw[: int(len(raw) * 0.4)])
    docs, rejected = split(list(WarcReader().read(str(cut))))
    assert any(r.reason == "warc_truncated" and r.errored and str(cut) in r.where for r in rejected)


def test_dechunk():
    assert _dechunk(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n") == b"hello world"
    with pytest.raises(ValueError):
        _dechunk(b"zz\r\nhello")


def test_reader_is_chosen_by_file_name(tmp_path):
    assert isinstance(reader_for("x/a.jsonl.gz"), JsonlReader)
    assert isinstance(reader_for("x/a.txt"), TextReader)
    assert isinstance(reader_for("x/a.warc.gz"), WarcReader)
    assert isinstance(reader_for("x/enwiki.xml.bz2"), WikiDumpReader)
    rejected = list(reader_for("x/a.docx").read("x/a.docx"))
    assert len(rejected) == 1 and rejected[0].reason == "no_reader" and rejected[0].errored and rejected[0].where == "x/a.docx"


def test_directories_globs_and_pipeline_output(tmp_path):
    from corpuskit.writers.jsonl import JsonlWriter
    from corpuskit.writers.base import write_manifest

    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "b.jsonl", [{"text": "b"}])
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"text": "a"}])
    assert list(iter_texts(str(tmp_path / "in"))) == ["a", "b"]
    assert list(iter_texts(str(tmp_path / "in" / "*.jsonl"))) == ["a", "b"]
    out = tmp_path / "out"
    files = JsonlWriter(max_docs=1).write_all(read_corpus(str(tmp_path / "in")), out, "part-00000")
    write_manifest(out, files)
    (out / "_run").mkdir()
    (out / "_run" / "junk.jsonl").write_text('{"text": "not output"}\n')
    assert list(iter_texts(str(out))) == ["a", "b"]
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        list(iter_texts(str(tmp_path / "nothing_here*.jsonl")))


def test_hf_datasets_reader_streams_local_json(tmp_path):
    path = tmp_path / "d.jsonl"
    write_jsonl(path, [{"text": f"hf {i}", "id": i} for i in range(3)])
    docs = list(read_corpus("json", reader="hf", data_files=[str(path)]))
    assert [d.text for d in docs] == ["hf 0", "hf 1", "hf 2"]


@pytest.mark.parametrize("mode", ["line", "paragraph"])
def test_texts_fast_path_equals_documents(tmp_path, mode):
    path = tmp_path / "t.txt.gz"
    path.write_bytes(gzip.compress("one\n\ntwo\nthree\n  \nfour caf\xe9\n".encode("latin-1")))
    reader = TextReader(mode=mode)
    docs = [d.text for d in reader.read(str(path)) if isinstance(d, Document)]
    assert list(reader.texts(str(path))) == docs
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(gzip.compress("".join(f"line {i * 7919 % 10007}\n" for i in range(50000)).encode())[:20000])
    with pytest.raises(CorpusError, match="truncated"):
        list(iter_texts(str(cut)))
    assert len(list(iter_texts(str(cut), on_error="skip"))) > 0


def test_jsonl_texts_fast_path_equals_documents(tmp_path):
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, [{"text": "ok"}, '{"text": "unterminated', {"title": "x"}, {"text": "ok too", "id": 3}])
    reader = JsonlReader()
    slow = [d.text if isinstance(d, Document) else d for d in reader.read(str(path))]
    assert list(reader.texts(str(path))) == slow
