"""`corpuskit dedup` end to end on generated JSONL."""

import json

import numpy as np
from click.testing import CliRunner

from corpuskit.dedup.cli import dedup
from corpuskit.readers import read_corpus


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_dedup_command_writes_kept_docs_and_duplicates(tmp_path):
    rng = np.random.default_rng(0)
    base = [f"w{i}" for i in rng.choice(10**6, 300, replace=False)]
    records = [
        {"doc": "a", "body": " ".join(base)},
        {"doc": "b", "body": " ".join(f"v{i}" for i in range(200))},
        {"doc": "c", "body": " ".join(base[:-3] + ["x", "y", "z"])},
        {"doc": "d", "body": " ".join(base)},
    ]
    write_jsonl(tmp_path / "part1.jsonl", records[:2])
    write_jsonl(tmp_path / "part2.jsonl", records[2:])
    out = tmp_path / "out"
    result = CliRunner().invoke(dedup, [str(tmp_path / "part*.jsonl"), "--output-dir", str(out), "--text-field", "body", "--id-field", "doc", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "4 documents, 2 near-duplicates removed" in result.output
    kept = [d.id for d in read_corpus(str(out))]
    assert kept == ["a", "b"]
    duplicates = [json.loads(line) for line in (out / "duplicates.jsonl").read_text().splitlines()]
    assert duplicates == [{"id": "c", "duplicate_of": "a"}, {"id": "d", "duplicate_of": "a"}]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dedup"]["removed"] == 2 and manifest["documents"] == 2
    assert not list(out.glob(".*tmp"))


def test_dedup_command_reports_bad_input_location(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "text": "fine"}\n{not json\n')
    result = CliRunner().invoke(dedup, [str(tmp_path / "bad.jsonl"), "-o", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code != 0
    assert "bad.jsonl:2" in str(result.exception) + result.output
