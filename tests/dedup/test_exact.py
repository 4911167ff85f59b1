"""ExactDedup: normalised text hashes, first occurrence kept, through map → reduce units."""

import pytest

from corpuskit.dedup.exact import ExactDedup, normalise_for_exact
from corpuskit.document import Document, Drop
from corpuskit.steps import GlobalWork, StepStateError


def kinds(results):
    return [[type(r).__name__ for r in shard] for shard in results]


def test_normalisation():
    assert normalise_for_exact("Hello,  World!\n") == "hello, world!"
    assert normalise_for_exact("Hello,  World!", strip_punctuation=True) == "hello world"
    assert normalise_for_exact("Hello,  World!", lowercase=False, collapse_whitespace=False) == "Hello,  World!"
    assert normalise_for_exact("e\u0301") == "\u00e9"  # NFC


def test_first_occurrence_kept_later_copies_dropped(dedup_run):
    docs = [Document("a", "Same text here."), Document("b", "other"), Document("c", "same   TEXT here."), Document("d", "Same text here!")]
    (results,) = dedup_run(ExactDedup(), [docs])
    assert [type(r).__name__ for r in results] == ["Document", "Document", "Drop", "Document"]
    assert results[2] == Drop("exact_duplicate")
    (strict,) = dedup_run(ExactDedup(lowercase=False), [docs])
    assert all(isinstance(r, Document) for r in strict)


def test_identical_records_keep_exactly_one(dedup_run):
    docs = [Document("a", "t"), Document("a", "t"), Document("a", "t")]
    assert kinds(dedup_run(ExactDedup(), [docs])) == [["Document", "Drop", "Drop"]]


def test_across_shards_the_earliest_shard_wins_and_duplicate_of_names_it(tmp_path):
    shards = [[Document("s0a", "x"), Document("s0b", "y")], [Document("s1a", "Y"), Document("s1b", "z")], [Document("s2a", "z"), Document("s2b", "x")]]
    step = ExactDedup()
    step.fit([iter(s) for s in shards], tmp_path)
    names, kept = [], []
    for index, shard in enumerate(shards):
        step.load_shard_state(GlobalWork(tmp_path, len(shards)), index)
        for doc in shard:
            copy = Document(doc.id, doc.text)
            if isinstance(step.process(copy), Drop):
                names.append((doc.id, copy.metadata["duplicate_of"]))
            else:
                kept.append(doc.id)
    assert kept == ["s0a", "s0b", "s1b"]
    assert names == [("s1a", "s0b"), ("s2a", "s1b"), ("s2b", "s0a")]


@pytest.mark.parametrize("part_rows", [1, 3, 1000])
def test_hash_ranges_do_not_change_decisions(dedup_run, monkeypatch, part_rows):
    docs = [Document(f"d{i}", f"text {i % 7}") for i in range(40)]
    shards = [docs[:13], docs[13:14], docs[14:]]
    monkeypatch.setattr(ExactDedup, "part_rows", classmethod(lambda cls: part_rows))
    results = dedup_run(ExactDedup(), shards)
    flat = [type(r).__name__ for shard in results for r in shard]
    assert flat == ["Document"] * 7 + ["Drop"] * 33


def test_documents_that_do_not_match_the_decisions_stop_the_run(dedup_run):
    docs = [Document("a", "x"), Document("b", "x")]
    step = ExactDedup()
    dedup_run(step, [docs])
    step._position = 0
    assert isinstance(step.process(Document("a", "x")), Document)
    with pytest.raises(StepStateError, match="document 1 of this shard is 'other'"):
        step.process(Document("other", "x"))
