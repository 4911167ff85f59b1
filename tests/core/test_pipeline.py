"""The pipeline: config validation, accounting, workers, resume after kill -9, global steps, reports."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.cli import main
from corpuskit.pipeline import ConfigError, load_config, run_pipeline
from corpuskit.pipeline.runner import PipelineError
from corpuskit.readers import read_corpus

CORPUSKIT = str(Path(sys.executable).with_name("corpuskit"))

TEST_STEPS = '''
import time
from pathlib import Path
import json
from corpuskit.steps import Filter, GlobalStep, ReduceTask, Step
from corpuskit.document import Drop

class Slow(Step):
    name = "slow"
    def __init__(self, seconds: float = 0.01) -> None:
        self.seconds = seconds
    def process(self, doc):
        time.sleep(self.seconds)
        return doc

class Explode(Step):
    name = "explode"
    def __init__(self, word: str = "boom") -> None:
        self.word = word
    def process(self, doc):
        if self.word in doc.text:
            raise RuntimeError("cannot handle " + self.word)
        doc.metadata["checked"] = True
        return doc

class FirstText(GlobalStep):
    """Keeps the first document of each distinct text in corpus order: a third party's global step."""
    name = "first_text"
    def map(self, docs, out):
        (out / "texts.json").write_text(json.dumps([d.text for d in docs]))
    def reduce_rounds(self, work):
        return [[ReduceTask("firsts", "firsts")]]
    def reduce(self, task, work, out):
        seen = set()
        for shard in range(work.n_shards):
            flags = []
            for text in json.loads((work.map_dir(shard) / "texts.json").read_text()):
                flags.append(text not in seen)
                seen.add(text)
            (out / f"{shard}.json").write_text(json.dumps(flags))
        return {"distinct": len(seen)}
    def load_shard_state(self, work, shard):
        self.keep = iter(json.loads((work.task_dir("firsts") / f"{shard}.json").read_text()))
    def process(self, doc):
        return doc if next(self.keep) else Drop("duplicate_text")
'''


@pytest.fixture
def test_steps(fake_plugins):
    fake_plugins(
        {"corpuskit.steps": {"slow": "cktest_steps:Slow", "explode": "cktest_steps:Explode", "first_text": "cktest_steps:FirstText"}},
        {"cktest_steps": TEST_STEPS},
    )


def make_inputs(directory: Path, files: int = 4, per_file: int = 30) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        with gzip.open(directory / f"in-{f:02d}.jsonl.gz", "wt", encoding="utf-8") as handle:
            for i in range(per_file):
                text = f"document {f}-{i} " + "with some words " * (i % 7) if i % 5 else "short"
                handle.write(json.dumps({"id": f"{f}-{i}", "text": text}) + "\n")
            handle.write("{not json}\n")


def write_config(path: Path, steps: str, extra: str = "", inputs: str = "in/*.jsonl.gz", out: str = "out") -> Path:
    step_lines = "\n".join("  " + line for line in steps.splitlines())
    path.write_text(
        f"inputs:\n  paths: [{inputs}]\nsteps:\n{step_lines}\n"
        f"output:\n  dir: {out}\n  options: {{compression: gz, max_docs: 7}}\n"
        f"executor:\n  workers: 1\n{extra}\n"
    )
    return path


def output_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: gzip.decompress(p.read_bytes()) for p in sorted(out.glob("part-*"))}


STEPS = "- normalize: {form: NFKC}\n- length: {min_chars: 10}"


def test_run_accounts_for_every_document(tmp_path):
    make_inputs(tmp_path / "in")
    summary = run_pipeline(load_config(write_config(tmp_path / "p.yaml", STEPS)))
    docs = summary["documents"]
    assert docs["input"] == 4 * 31
    assert docs["errored"] == 4 and summary["errored"] == {"read: malformed_json": 4}
    assert docs["dropped"] == summary["dropped"]["length: too_short"] == 4 * 6
    assert docs["kept"] == docs["input"] - docs["dropped"] - docs["errored"]
    kept = list(read_corpus(str(tmp_path / "out")))
    assert len(kept) == docs["kept"]
    assert [row["documents"] for row in summary["funnel"]] == [124, 120, 120, 96]
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["documents"] == docs["kept"]
    assert "malformed_json" in summary["error_examples"]["read: malformed_json"]


def test_workers_give_the_same_output_as_one_process(tmp_path):
    make_inputs(tmp_path / "in", files=5)
    one = run_pipeline(load_config(write_config(tmp_path / "a.yaml", STEPS, out="out1")))
    two = run_pipeline(load_config(write_config(tmp_path / "b.yaml", STEPS, out="out2"), overrides={"workers": 2}))
    assert output_bytes(tmp_path / "out1") == output_bytes(tmp_path / "out2")
    assert one["documents"] == two["documents"] and one["dropped"] == two["dropped"]


def test_resume_after_kill_9_gives_the_uninterrupted_output(tmp_path, test_steps):
    make_inputs(tmp_path / "in", files=8, per_file=20)
    steps = "- normalize: {}\n- slow: {seconds: 0.02}\n- length: {min_chars: 10}"
    reference = run_pipeline(load_config(write_config(tmp_path / "ref.yaml", steps.replace("0.02", "0.0"), out="ref")))
    config = write_config(tmp_path / "p.yaml", steps)
    process = subprocess.Popen([CORPUSKIT, "pipeline", "run", str(config), "--no-progress"], env=os.environ.copy())
    units = tmp_path / "out" / "_run" / "units"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(units.glob("*.json"))) < 3:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = len(list(units.glob("*.json")))
    assert 3 <= finished < 8, "the run should have been killed part-way"
    result = CliRunner().invoke(main, ["pipeline", "run", str(config), "--no-progress"])
    assert result.exit_code != 0 and "--resume" in result.output
    result = CliRunner().invoke(main, ["pipeline", "run", str(config), "--resume", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert output_bytes(tmp_path / "out") == output_bytes(tmp_path / "ref")
    summary = json.loads((tmp_path / "out" / "_run" / "summary.json").read_text())
    assert summary["documents"] == reference["documents"]


def test_resume_refuses_a_changed_config(tmp_path):
    make_inputs(tmp_path / "in", files=1)
    run_pipeline(load_config(write_config(tmp_path / "p.yaml", STEPS)))
    changed = load_config(write_config(tmp_path / "p.yaml", STEPS.replace("10", "11")))
    with pytest.raises(PipelineError, match="config changed"):
        run_pipeline(changed, resume=True)
    assert run_pipeline(changed, overwrite=True)["documents"]["input"] == 31


def test_global_step_sees_every_shard_in_order(tmp_path, test_steps):
    (tmp_path / "in").mkdir()
    for name, texts in {"a.jsonl": ["same", "x1", "same"], "b.jsonl": ["x1", "same", "b only"]}.items():
        (tmp_path / "in" / name).write_text("".join(json.dumps({"id": f"{name}{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    config = write_config(tmp_path / "p.yaml", "- normalize: {}\n- first_text: {}\n- length: {min_chars: 1}", inputs="in/*.jsonl")
    summary = run_pipeline(load_config(config, overrides={"workers": 2}))
    assert sorted(d.id for d in read_corpus(str(tmp_path / "out"))) == ["a.jsonl0", "a.jsonl1", "b.jsonl2"]
    assert summary["dropped"] == {"first_text: duplicate_text": 3}
    assert summary["counters"]["first_text"] == {"distinct": 3}
    assert [r["documents"] for r in summary["funnel"]] == [6, 6, 6, 3, 3]
    again = run_pipeline(load_config(config), resume=True)  # everything done: nothing recomputed
    assert again["documents"] == summary["documents"]


def test_step_errors_are_counted_or_raised(tmp_path, test_steps):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in ["fine text", "boom here", "fine again"]))
    config = write_config(tmp_path / "p.yaml", "- explode: {}", inputs="in/a.jsonl")
    summary = run_pipeline(load_config(config))
    assert summary["documents"] == {"input": 3, "kept": 2, "dropped": 0, "errored": 1}
    assert summary["errored"] == {"explode: RuntimeError": 1}
    assert all(d.metadata["checked"] for d in read_corpus(str(tmp_path / "out")))
    with pytest.raises(PipelineError, match=r"a.jsonl:2: step explode failed: cannot handle boom"):
        run_pipeline(load_config(config, overrides={"on_error": "raise"}), overwrite=True)


@pytest.mark.parametrize(
    "steps, extra, message",
    [
        ("- no_such_step: {}", "", "steps[1]: unknown step 'no_such_step'"),
        ("- length: {min_chars: ten}", "", "parameter 'min_chars' must be an integer"),
        ("- length: {min_char: 10}", "", "unknown parameter 'min_char'"),
        ("- normalize: {form: NFD}", "", "parameter 'form' must be one of 'NFC', 'NFKC', 'none'"),
        ("- length: {}", "surprise: 1", "unknown key 'surprise'"),
        ("- length: {}", "", None),
    ],
)
def test_config_errors_name_the_culprit(tmp_path, steps, extra, message):
    path = write_config(tmp_path / "p.yaml", steps)
    if extra:
        path.write_text(path.read_text() + extra + "\n")
    if message is None:
        assert load_config(path).steps[0].name == "length"
        return
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_config_errors_reach_the_cli_before_any_work(tmp_path):
    make_inputs(tmp_path / "in", files=1)
    path = write_config(tmp_path / "p.yaml", "- length: {min_chars: -1.5}")
    result = CliRunner().invoke(main, ["pipeline", "run", str(path)])
    assert result.exit_code != 0 and "min_chars" in result.output
    assert not (tmp_path / "out").exists()


def test_fifty_megabyte_document_through_the_pipeline(tmp_path):
    (tmp_path / "in").mkdir()
    with open(tmp_path / "in" / "big.jsonl", "w") as handle:
        handle.write(json.dumps({"text": "a" * 50_000_000}) + "\n" + json.dumps({"text": "small but fine"}) + "\n")
    config = write_config(tmp_path / "p.yaml", "- length: {max_chars: 1000000}", inputs="in/big.jsonl")
    summary = run_pipeline(load_config(config))
    assert summary["dropped"] == {"length: too_long": 1} and summary["documents"]["kept"] == 1


def test_reports(tmp_path):
    make_inputs(tmp_path / "in", files=2)
    run_pipeline(load_config(write_config(tmp_path / "p.yaml", STEPS)))
    result = CliRunner().invoke(main, ["pipeline", "report", str(tmp_path / "out")])
    assert result.exit_code == 0
    assert "62 documents read = 48 kept + 12 dropped + 2 errored" in result.output.replace("**", "")
    assert "| length | too_short | 12 |" in result.output
    result = CliRunner().invoke(main, ["pipeline", "report", str(tmp_path / "out"), "--format", "html", "-o", str(tmp_path / "r.html")])
    page = (tmp_path / "r.html").read_text()
    assert result.exit_code == 0 and "<svg" in page and "too_short" in page
    result = CliRunner().invoke(main, ["pipeline", "report", str(tmp_path)])
    assert result.exit_code != 0 and "no run summary" in result.output


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=40), st.just(None), st.just("\udcff bad")), min_size=0, max_size=30))
def test_counts_always_add_up(tmp_path_factory, records):
    root = tmp_path_factory.mktemp("prop")
    (root / "in").mkdir()
    lines = [("{broken" if r is None else json.dumps({"text": r})) for r in records]
    (root / "in" / "a.jsonl").write_text("\n".join(lines) + "\n" if lines else "")
    config = write_config(root / "p.yaml", "- normalize: {invalid_utf8: drop}\n- length: {min_chars: 3}", inputs="in/a.jsonl")
    summary = run_pipeline(load_config(config))
    docs = summary["documents"]
    assert docs["input"] == len([line for line in lines if line.strip()])
    assert docs["input"] == docs["kept"] + docs["dropped"] + docs["errored"]
    assert docs["kept"] == sum(1 for _ in read_corpus(str(root / "out"))) if docs["kept"] else True
