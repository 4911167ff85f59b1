"""The quickstart: sample generation and the default pipeline over it."""

import json

from corpuskit.quickstart import run_quickstart
from corpuskit.quickstart.sample import write_sample
from corpuskit.readers import read_corpus


def test_sample_is_deterministic(tmp_path):
    first = [p.read_bytes() for p in write_sample(tmp_path / "a")]
    second = [p.read_bytes() for p in write_sample(tmp_path / "b")]
    assert first == second


def test_default_pipeline_on_the_sample(tmp_path):
    lines = []
    summary = run_quickstart(tmp_path, workers=2, echo=lines.append, stages=False)
    docs = summary["documents"]
    assert docs["input"] == docs["kept"] + docs["dropped"] + docs["errored"]
    assert summary["errored"] == {"read: malformed_json": 1}
    assert summary["dropped"]["read: warc_not_200"] == 2 and summary["dropped"]["read: warc_not_html"] == 1
    assert docs["kept"] == len(list(read_corpus(str(tmp_path / "output"))))
    assert (tmp_path / "report.md").read_text().count("|") > 10
    assert json.loads((tmp_path / "output" / "manifest.json").read_text())["documents"] == docs["kept"]
    assert any("documents read" in line for line in lines)
    dropping_steps = {key.split(": ")[0] for key in summary["dropped"]}
    for step in summary["steps"]:
        if step["name"] != "pii":  # pii redacts, it never drops
            assert step["label"] in dropping_steps, f"the sample gives {step['label']} nothing to drop"
    assert set(summary["counters"]["pii"]) == {"pii_email", "pii_phone", "pii_ip"}


def test_quickstart_command_runs_every_stage(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    corpuskit = str(Path(sys.executable).with_name("corpuskit"))
    out = subprocess.run([corpuskit, "quickstart", "--dir", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("[quickstart] done")
    for stage in ("10-tokenizer", "20-embeddings", "30-ngram"):
        assert f"stage {stage}" in out.stdout
    assert (tmp_path / "tokenizer" / "tokenizer.json").is_file()
    assert (tmp_path / "ngram" / "model.arpa").is_file()
    assert any((tmp_path / "embeddings").iterdir())
