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
