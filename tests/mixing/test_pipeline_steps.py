"""mix, line_dedup, paragraph_dedup and decontaminate inside a pipeline run: registered, parallel
units, counters in the run summary, same output with other shardings and workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpuskit.pipeline import load_config, run_pipeline
from corpuskit.readers import read_corpus

LANGS = {"en": 240, "fr": 60, "de": 20}
EVAL = "the answer to the ultimate question of life the universe and everything is forty two"


def make_inputs(folder: Path, files: int) -> None:
    records = []
    for lang, n in LANGS.items():
        for i in range(n):
            text = f"{lang} line {i}\nshared footer line\n"
            if i % 40 == 7:
                text += f"As quoted: {EVAL.upper()}.\n"
            records.append({"id": f"{lang}-{i}", "text": text, "lang": lang})
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        with open(folder / f"in-{f}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in records[f::files])


def run(tmp_path: Path, name: str, files: int, workers: int) -> dict:
    make_inputs(tmp_path / name, files)
    (tmp_path / "eval.jsonl").write_text(json.dumps({"id": "e", "text": EVAL}) + "\n")
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(
        f"inputs:\n  paths: [{name}/*.jsonl]\nsteps:\n"
        f"  - decontaminate: {{eval_files: ['{tmp_path / 'eval.jsonl'}']}}\n"
        "  - line_dedup: {}\n"
        "  - mix: {temperature: 2.0, target_documents: 100, seed: 11}\n"
        f"output:\n  dir: out-{name}\n  options: {{compression: none}}\nexecutor: {{workers: {workers}}}\n"
    )
    return run_pipeline(load_config(cfg))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("mixrun")
    return tmp_path, run(tmp_path, "a", files=3, workers=1), run(tmp_path, "b", files=5, workers=2)


def test_summary_holds_the_counters_and_the_accounting_adds_up(runs):
    tmp_path, summary, _ = runs
    contaminated = sum(1 for n in LANGS.values() for i in range(n) if i % 40 == 7)
    assert summary["dropped"]["decontaminate: eval.jsonl"] == contaminated
    assert summary["counters"]["decontaminate"]["documents_matched: eval.jsonl"] == contaminated
    assert summary["counters"]["line_dedup"]["duplicate_spans"] == sum(LANGS.values()) - contaminated - 1  # the footer
    mix = summary["counters"]["mix"]
    assert sum(mix[f"kept: {lang}"] for lang in LANGS) == summary["documents"]["kept"] <= 100  # 100: no language runs out
    weights = {lang: (n - sum(1 for i in range(n) if i % 40 == 7)) ** 0.5 for lang, n in LANGS.items()}
    for lang, w in weights.items():
        assert mix[f"share_ppm: {lang}"] / 1e6 == pytest.approx(w / sum(weights.values()), abs=0.02)
    kept = list(read_corpus([str(tmp_path / "out-a")]))
    assert len(kept) == summary["documents"]["kept"]
    footers = sum("shared footer line" in d.text for d in kept)
    assert footers <= 1


def test_output_does_not_depend_on_shards_or_workers(runs):
    tmp_path, a, b = runs
    first = {d.id: d.text for d in read_corpus([str(tmp_path / "out-a")])}
    second = {d.id: d.text for d in read_corpus([str(tmp_path / "out-b")])}
    assert set(first) == set(second)  # the footer's first occurrence moves with the files: only texts differ there
    assert a["counters"]["mix"] == b["counters"]["mix"]
