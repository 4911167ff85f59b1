"""line_dedup / paragraph_dedup: planted repeated spans across shards, removal, empty documents."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.dedup.spans import LineDedup, ParagraphDedup, line_spans, paragraph_spans, remove_spans, three_sentence_spans
from corpuskit.document import Document, Drop

BOILER = "Subscribe to our newsletter for more stories"


def test_splitters_and_removal_keep_the_remaining_text_as_it_was():
    text = "a\nb\n\nc"
    assert [text[s:e] for s, e in line_spans(text)] == ["a", "b", "", "c"]
    assert remove_spans(text, line_spans(text), {1}) == "a\n\nc"
    assert remove_spans(text, line_spans(text), {3}) == "a\nb\n"
    assert remove_spans(text, line_spans(text), {0, 1, 2, 3}) == ""
    para = "First para\nstill first.\n\n  \nSecond.\n\nThird."
    assert [para[s:e] for s, e in paragraph_spans(para)] == ["First para\nstill first.", "Second.", "Third."]
    assert remove_spans(para, paragraph_spans(para), {1}) == "First para\nstill first.\n\n  \nThird."
    prose = "One is here. Two is here. Three is here. Four is here. Five."
    assert [prose[s:e] for s, e in three_sentence_spans(prose)] == ["One is here. Two is here. Three is here.", "Four is here. Five."]


def planted_corpus(seed: int = 0) -> tuple[list[list[Document]], dict[str, str]]:
    """Three shards of documents with unique lines, a boilerplate line planted in some, and
    one document made only of lines seen before. Returns the shards and the expected texts."""
    rng = np.random.default_rng(seed)
    shards, expected, seen = [], {}, set()
    for shard in range(3):
        docs = []
        for i in range(12):
            lines = [f"unique line {shard}-{i}-{k} " + " ".join(f"w{x}" for x in rng.integers(0, 10**6, 4)) for k in range(3)]
            if i % 3 == 0:
                lines.insert(1, BOILER if i % 2 else BOILER.upper())  # case differs: still the same span
            doc_id = f"s{shard}-{i}"
            text = "\n".join(lines)
            docs.append(Document(doc_id, text, {}))
            kept = [line for line in lines if line.lower() not in seen]
            seen.update(line.lower() for line in lines)
            expected[doc_id] = "\n".join(kept)
        shards.append(docs)
    repeat = shards[0][1].text.split("\n")
    shards[2].append(Document("s2-copy", "\n".join(repeat[::-1]), {}))  # every line seen earlier
    return shards, expected


def test_planted_lines_are_removed_after_their_first_occurrence_across_shards(dedup_run):
    shards, expected = planted_corpus()
    step = LineDedup()
    results = dedup_run(step, shards)
    flat = {doc.id: result for shard, shard_results in zip(shards, results) for doc, result in zip(shard, shard_results)}
    assert flat["s0-0"].text == expected["s0-0"] and BOILER.upper() in flat["s0-0"].text  # the first stays
    for doc_id, text in expected.items():
        assert flat[doc_id].text == text
    assert BOILER.lower() not in flat["s1-3"].text.lower()
    assert isinstance(flat["s2-copy"], Drop) and flat["s2-copy"].reason == "only_duplicate_spans"
    boiler_docs = sum(1 for shard in shards for d in shard if BOILER in d.text or BOILER.upper() in d.text)
    assert step.counters()["duplicate_spans"] == boiler_docs - 1 + 3


def test_same_outcome_on_one_shard(dedup_run):
    shards, expected = planted_corpus()
    [results] = dedup_run(LineDedup(), [[d for shard in shards for d in shard]])
    assert [r.text for r in results if not isinstance(r, Drop)] == list(expected.values())


def test_paragraphs_and_three_sentence_spans(dedup_run):
    shared = "This paragraph is shared.\nIt has two lines."
    shards = [
        [Document("a", f"Intro of a.\n\n{shared}\n\nEnd of a.")],
        [Document("b", f"Intro of b.\n\n{shared}\n\nEnd of b."), Document("c", f"{shared}\n\n\n{shared}")],
    ]
    results = dedup_run(ParagraphDedup(), shards)
    assert results[0][0].text == shards[0][0].text
    assert results[1][0].text == "Intro of b.\n\nEnd of b."
    assert isinstance(results[1][1], Drop)
    c4 = "The sky is blue. Grass is green. Snow is white."
    shards = [[Document("x", f"{c4} Mine is first.")], [Document("y", f"{c4} Yours is second. And more. Enough.")]]
    results = dedup_run(LineDedup(span="three_sentences"), shards)
    assert results[0][0].text == shards[0][0].text
    assert results[1][0].text == "Yours is second. And more. Enough."


def test_changed_input_is_detected_and_bad_parameters_refused(tmp_path):
    from corpuskit.steps import StepStateError

    shards, _ = planted_corpus()
    step = LineDedup()
    step.fit([iter(s) for s in shards], tmp_path / "w")
    for doc in shards[0][:3]:
        step.process(doc)
    with pytest.raises(StepStateError, match="input changed"):  # s0-3 (a planted line) was expected here
        step.process(Document("other", shards[0][3].text, {}))
    with pytest.raises(ValueError, match="span"):
        LineDedup(span="paragraph")
    with pytest.raises(ValueError, match="min_chars"):
        ParagraphDedup(min_chars=0)
