"""decontaminate: planted eval passages across shards, drop and redact, against a plain set reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpuskit.dedup.decontaminate import Decontaminate, ngram_hashes, word_offsets, words_of
from corpuskit.document import Document, Drop

QUESTION = "Which planet in our solar system has the largest number of known moons orbiting it today"  # 16 words
ANSWER = "the quick brown fox jumps over the lazy dog while the farmer sleeps under an old oak tree"


def write_eval(path, texts):
    path.write_text("".join(json.dumps({"id": f"q{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    return str(path)


def filler(rng, n):
    return " ".join(f"f{x}" for x in rng.integers(0, 10**6, n))


@pytest.fixture
def eval_files(tmp_path):
    return [write_eval(tmp_path / "mmlu.jsonl", [QUESTION, "too short to matter"]), write_eval(tmp_path / "story.jsonl", [ANSWER])]


def planted_shards():
    rng = np.random.default_rng(0)
    q_words = QUESTION.split()
    shards = [[Document(f"s{s}-{i}", filler(rng, 40)) for i in range(8)] for s in range(3)]
    shards[0][2] = Document("s0-2", f"{filler(rng, 10)} {QUESTION.upper()} {filler(rng, 10)}")  # case does not matter
    shards[1][5] = Document("s1-5", f"{filler(rng, 5)}\n{' '.join(q_words[:13])}\n{filler(rng, 5)}")  # exactly 13 words
    shards[2][0] = Document("s2-0", f"{' '.join(q_words[:12])} {filler(rng, 30)}")  # 12 words: not contamination
    shards[2][7] = Document("s2-7", f"{QUESTION} and then {ANSWER} {ANSWER}")  # both files; story has more n-grams
    return shards


def test_planted_contamination_is_dropped_and_counted_per_eval_file(dedup_run, eval_files):
    shards = planted_shards()
    step = Decontaminate(eval_files=eval_files)
    results = dedup_run(step, shards)
    flat = {doc.id: r for shard, rs in zip(shards, results) for doc, r in zip(shard, rs)}
    dropped = {doc_id: r.reason for doc_id, r in flat.items() if isinstance(r, Drop)}
    assert dropped == {"s0-2": "mmlu.jsonl", "s1-5": "mmlu.jsonl", "s2-7": "story.jsonl"}
    counters = step.counters()
    assert counters["eval_ngrams: mmlu.jsonl"] == len(QUESTION.split()) - 12
    assert counters["eval_too_short: mmlu.jsonl"] == 1 and counters["eval_documents: story.jsonl"] == 1


def test_worker_counters_and_redaction(tmp_path, eval_files):
    from corpuskit.steps import GlobalWork

    shards = planted_shards()
    Decontaminate(eval_files=eval_files).fit([iter(s) for s in shards], tmp_path / "w")
    worker = Decontaminate(eval_files=eval_files, mode="redact", placeholder="[eval]")
    worker.load_shard_state(GlobalWork(tmp_path / "w", 3), 2)
    out = [worker.process(d) for d in shards[2]]
    assert out[0].text == shards[2][0].text
    assert out[7].text == "[eval] and then [eval]"
    counters = worker.counters()
    assert counters["documents_matched: mmlu.jsonl"] == counters["documents_matched: story.jsonl"] == 1
    assert counters["ngrams_matched: mmlu.jsonl"] == len(QUESTION.split()) - 12 and counters["ngrams_matched: story.jsonl"] == 2 * (len(ANSWER.split()) - 12)
    assert worker.process(Document("q", f"  {QUESTION}\n")).text == "  [eval]\n"
    worker.placeholder = ""
    only = worker.process(Document("q", QUESTION))
    assert isinstance(only, Drop) and only.reason == "decontaminate_empty"


def test_matches_equal_a_plain_set_reference(tmp_path):
    """Small vocabulary, 3-grams: many chance matches, checked against Python sets of word tuples."""
    rng = np.random.default_rng(1)
    vocab = [f"v{i}" for i in range(30)]
    evals = [" ".join(rng.choice(vocab, size=int(rng.integers(2, 30)))) for _ in range(20)]
    docs = [" ".join(rng.choice(vocab, size=int(rng.integers(0, 25)))) for _ in range(300)]
    path = write_eval(tmp_path / "eval.jsonl", evals)
    step = Decontaminate(eval_files=[path], ngram=3)
    step.fit([iter([Document(f"d{i}", t) for i, t in enumerate(docs)])], tmp_path / "w")
    dropped = 0
    reference = {tuple(w[i : i + 3]) for t in evals for w in [t.lower().split()] for i in range(len(w) - 2)}
    for i, text in enumerate(docs):
        words = text.split()
        shared = sum(tuple(words[j : j + 3]) in reference for j in range(len(words) - 2))
        result = step.process(Document(f"d{i}", text))
        assert isinstance(result, Drop) == (shared > 0), text
        dropped += shared > 0
    assert 20 < dropped < 280  # both outcomes are exercised
    assert step.counters()["eval_ngrams: eval.jsonl"] == len(reference)


def test_ngram_hashes_depend_on_order_and_parameters_are_checked(tmp_path):
    a = ngram_hashes("a b c d".split(), 2)
    assert len(a) == 3 and len(set(a.tolist())) == 3
    assert ngram_hashes("b a".split(), 2)[0] != a[0]
    assert len(ngram_hashes(["a"], 2)) == 0
    odd = "Ab\u00a0cd\x1cEF\u2003g\u3000\u0130h  i\n"  # Unicode spaces: redaction offsets match the words
    assert [odd[a:b].lower() for a, b in word_offsets(odd)] == words_of(odd)
    with pytest.raises(ValueError, match="appears twice"):
        Decontaminate(eval_files=["x/test.jsonl", "y/test.jsonl"])
    with pytest.raises(ValueError, match="at least one"):
        Decontaminate(eval_files=[])
    step = Decontaminate(eval_files=[str(tmp_path / "missing.jsonl")])
    with pytest.raises(Exception, match="does not exist"):
        step.fit([iter([Document("d", "x")])], tmp_path / "w")
