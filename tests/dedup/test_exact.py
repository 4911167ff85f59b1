"""ExactDedup: normalised text hashes, first occurrence kept."""

import pytest

from corpuskit.dedup.decisions import document_key
from corpuskit.dedup.exact import ExactDedup, normalise_for_exact
from corpuskit.document import CorpusError, Document, Drop


def run(step, docs, tmp_path):
    step.fit(iter(docs))
    step.save_state(tmp_path)
    worker = ExactDedup(**step.params())
    worker.load_state(tmp_path)
    return [worker.process(Document(d.id, d.text)) for d in docs]


def test_normalisation():
    assert normalise_for_exact("Hello,  World!\n") == "hello, world!"
    assert normalise_for_exact("Hello,  World!", strip_punctuation=True) == "hello world"
    assert normalise_for_exact("Hello,  World!", lowercase=False, collapse_whitespace=False) == "Hello,  World!"
    assert normalise_for_exact("e\u0301") == "\u00e9"  # NFC


def test_first_occurrence_kept_later_copies_dropped(tmp_path):
    docs = [Document("a", "Same text here."), Document("b", "other"), Document("c", "same   TEXT here."), Document("d", "Same text here!")]
    results = run(ExactDedup(), docs, tmp_path)
    assert results[0] == docs[0] or isinstance(results[0], Document)
    assert isinstance(results[1], Document) and isinstance(results[3], Document)
    assert results[2] == Drop("exact_duplicate")
    strict = run(ExactDedup(lowercase=False), docs, tmp_path)
    assert all(isinstance(r, Document) for r in strict)


def test_identical_records_keep_exactly_one(tmp_path):
    docs = [Document("a", "t"), Document("a", "t"), Document("a", "t")]
    results = run(ExactDedup(), docs, tmp_path)
    assert [type(r).__name__ for r in results] == ["Document", "Drop", "Drop"]


def test_duplicate_of_and_keys(tmp_path):
    step = ExactDedup()
    step.fit(iter([Document("first", "x"), Document("second", "X")]))
    doc = Document("second", "X")
    assert step.process(doc) == Drop("exact_duplicate") and doc.metadata["duplicate_of"] == "first"
    assert document_key("a", "bc") != document_key("ab", "c")


def test_mismatched_state_is_an_error(tmp_path):
    step = ExactDedup()
    step.fit(iter([Document("a", "x")]))
    step.save_state(tmp_path)
    with pytest.raises(CorpusError, match="exact_dedup.json: state was fitted with"):
        ExactDedup(lowercase=False).load_state(tmp_path)
