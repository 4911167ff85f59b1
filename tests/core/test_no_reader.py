"""A file no reader claims (a README.md among WARC files) is counted, not fatal, and named by validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpuskit.cli import main
from corpuskit.pipeline import load_config, run_pipeline
from corpuskit.pipeline.runner import PipelineError
from corpuskit.readers import iter_texts
from corpuskit.document import CorpusError


def _setup(tmp_path: Path, on_error: str) -> Path:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.jsonl").write_text("".join(json.dumps({"text": f"document {i}"}) + "\n" for i in range(3)))
    (inputs / "README.md").write_text("# about these files\n")
    (inputs / "notes.docx").write_bytes(b"PK\x03\x04")
    config = tmp_path / "p.yaml"
    config.write_text(f"inputs:\n  paths: [{inputs}]\nsteps: []\noutput:\n  dir: {tmp_path / 'out'}\non_error: {on_error}\n")
    return config


def test_files_without_a_reader_are_counted_under_skip(tmp_path):
    summary = run_pipeline(load_config(_setup(tmp_path, "skip")))
    assert summary["errored"] == {"read: no_reader": 2}
    assert summary["documents"] == {"input": 5, "kept": 3, "dropped": 0, "errored": 2}
    assert "README.md" in summary["error_examples"]["read: no_reader"]
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]


def test_files_without_a_reader_stop_a_raise_run_naming_the_file(tmp_path):
    with pytest.raises(PipelineError, match=r"README\.md: no_reader"):
        run_pipeline(load_config(_setup(tmp_path, "raise")))


@pytest.mark.parametrize("on_error,code", [("skip", 0), ("raise", 1)])
def test_validate_names_files_without_a_reader(tmp_path, on_error, code):
    result = CliRunner().invoke(main, ["pipeline", "validate", str(_setup(tmp_path, on_error))])
    assert result.exit_code == code, result.output
    assert "2 input file(s) have no reader" in result.output
    assert "README.md" in result.output and "notes.docx" in result.output


def test_trainers_reading_a_file_without_a_reader_raise_naming_it(tmp_path):
    _setup(tmp_path, "skip")
    with pytest.raises(CorpusError, match=r"README\.md: no_reader"):
        list(iter_texts(str(tmp_path / "in")))
    assert len(list(iter_texts(str(tmp_path / "in"), on_error="skip"))) == 3
