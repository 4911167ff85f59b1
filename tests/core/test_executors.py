"""Executors: the local executor's pool, progress, errors and retries; executors as plugins."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from corpuskit.executors import Unit, UnitFailed, UnitLoadError, build_executor
from corpuskit.executors.local import LocalExecutor
from corpuskit.pipeline import ConfigError, load_config, run_pipeline
from corpuskit.readers import read_corpus


UNIT_FUNCTIONS = '''
import os, signal, time
from pathlib import Path

def square(x: int, progress) -> int:
    progress(x)
    return x * x


def fail_on(x: int, bad: int, progress) -> int:
    if x == bad:
        raise ValueError(f"unit {x} refuses")
    return x


def die_once(flag_dir: str, x: int, progress) -> int:
    """SIGKILLs its own worker the first time it runs for `x`; succeeds on the retry."""
    flag = Path(flag_dir) / f"ran-{x}"
    if not flag.exists():
        flag.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def always_die(x: int, progress) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x


def record_concurrency(folder: str, x: int, progress) -> int:
    mine = Path(folder) / f"{x}.running"
    mine.write_text("")
    running = len(list(Path(folder).glob("*.running")))
    time.sleep(0.05)
    mine.unlink()
    return running
'''


@pytest.fixture
def units(fake_plugins):
    """The unit functions, in a module spawned workers can import (as a third party's would be)."""
    fake_plugins({}, {"ck_units": UNIT_FUNCTIONS}, name="corpuskit-testunits")
    import ck_units

    return ck_units


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_unit_order_with_progress(units, workers):
    seen = []
    with LocalExecutor(workers=workers) as executor:
        results = executor.run([Unit(f"u{i}", units.square, (i,)) for i in range(7)], progress=seen.append)
        assert results == [i * i for i in range(7)]
        assert executor.run([]) == []
    assert sum(seen) == sum(range(7))


def test_an_error_in_a_unit_is_raised_unchanged_and_not_retried(units):
    with LocalExecutor(workers=2, retries=5) as executor:
        with pytest.raises(ValueError, match="unit 3 refuses"):
            executor.run([Unit(f"u{i}", units.fail_on, (i, 3)) for i in range(6)])
        assert executor.run([Unit("again", units.square, (2,))]) == [4]  # the executor is still usable


def test_a_killed_worker_is_retried_and_the_run_finishes(units, tmp_path):
    with LocalExecutor(workers=2, retries=2) as executor:
        started = time.time()
        results = executor.run([Unit(f"u{i}", units.die_once, (str(tmp_path), i)) for i in range(4)])
    assert results == [0, 1, 2, 3]
    assert time.time() - started < 60
    assert len(list(tmp_path.glob("ran-*"))) == 4


def test_a_unit_that_keeps_killing_its_worker_fails_by_name(units):
    with LocalExecutor(workers=2, retries=1) as executor:
        with pytest.raises(UnitFailed, match=r"unit doomed: its worker process died 2 time\(s\)"):
            executor.run([Unit("fine", units.square, (1,)), Unit("doomed", units.always_die, (0,))])


def test_work_in_flight_is_bounded(units, tmp_path):
    with LocalExecutor(workers=2, max_in_flight=1) as executor:
        assert max(executor.run([Unit(f"u{i}", units.record_concurrency, (str(tmp_path), i)) for i in range(4)])) == 1


def test_a_function_workers_cannot_import_is_an_error_of_its_unit():
    def local_function(progress):  # not importable by name from another process
        return 1

    with LocalExecutor(workers=2, retries=3) as executor:
        with pytest.raises(UnitLoadError, match="unit mine: cannot load .*local_function in a worker process"):
            executor.run([Unit("mine", local_function), Unit("other", local_function)])


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="workers must be at least 1"):
        LocalExecutor(workers=0)
    with pytest.raises(ValueError, match="retries"):
        LocalExecutor(retries=-1)
    assert isinstance(build_executor("local", workers=3), LocalExecutor)
    with pytest.raises(LookupError, match="unknown executor 'nope'"):
        build_executor("nope")


EXECUTOR_PLUGIN = '''
import json, os
from corpuskit.executors import Executor

class Journal(Executor):
    """Runs units in order and journals their keys: a third party's executor."""
    name = "journal"
    def __init__(self, journal: str, workers: int = 1) -> None:
        self.journal = journal
    def run(self, units, progress=None):
        with open(self.journal, "a") as handle:
            for unit in units:
                handle.write(unit.key + "\\n")
        return [unit(progress) for unit in units]
'''


def write_inputs(folder: Path) -> None:
    folder.mkdir()
    for name, texts in {"a.jsonl": ["one text", "two text", "one text"], "b.jsonl": ["two text", "three"]}.items():
        (folder / name).write_text("".join(json.dumps({"id": f"{name}{i}", "text": t}) + "\n" for i, t in enumerate(texts)))


def config_text(executor: str) -> str:
    return f"inputs:\n  paths: [in/*.jsonl]\nsteps:\n  - exact_dedup: {{}}\noutput:\n  dir: out\n{executor}"


def test_a_third_party_executor_runs_every_unit_of_a_pipeline(tmp_path, fake_plugins):
    fake_plugins({"corpuskit.executors": {"journal": "ck_journal:Journal"}}, {"ck_journal": EXECUTOR_PLUGIN})
    write_inputs(tmp_path / "in")
    journal = tmp_path / "journal.txt"
    path = tmp_path / "p.yaml"
    path.write_text(config_text(f"executor:\n  kind: journal\n  journal: {journal}\non_error: skip\n"))
    summary = run_pipeline(load_config(path))
    assert summary["executor"] == {"kind": "journal", "journal": str(journal)}
    keys = journal.read_text().split()
    assert keys[:2] == ["stage0-shard00000", "stage0-shard00001"]
    assert "stage1-map-00000" in keys and "stage1-reduce-decide-00001" in keys and keys[-1] == "stage1-shard00001"
    assert [d.id for d in read_corpus(str(tmp_path / "out"))] == ["a.jsonl0", "a.jsonl1", "b.jsonl1"]


def test_executor_config_kinds_parameters_and_old_spellings(tmp_path, fake_plugins):
    fake_plugins({"corpuskit.executors": {"journal": "ck_journal:Journal"}}, {"ck_journal": EXECUTOR_PLUGIN})
    path = tmp_path / "p.yaml"
    write_inputs(tmp_path / "in")
    cases = {
        "executor:\n  workers: 2\n  on_error: raise\n": ("local", {"workers": 2}, "raise"),  # round 1's spelling
        "executor: {kind: local, workers: 3}\non_error: skip\n": ("local", {"workers": 3}, "skip"),
        "": ("local", {}, "skip"),
    }
    for text, (kind, params, on_error) in cases.items():
        path.write_text(config_text(text))
        config = load_config(path)
        assert (config.executor, config.executor_params, config.on_error) == (kind, params, on_error)
    errors = {
        "executor: {kind: nope}\n": "executor.kind: unknown executor 'nope'",
        "executor: {workers: 0}\n": "workers must be at least 1",
        "executor: {workers: two}\n": "parameter 'workers' must be an integer",
        "executor: {kind: journal}\n": "missing required parameter 'journal'",
        "executor: {threads: 2}\n": "unknown parameter 'threads'",
        "executor: {on_error: raise}\non_error: skip\n": "'on_error' is set both at the top level and under executor",
    }
    for text, message in errors.items():
        path.write_text(config_text(text))
        with pytest.raises(ConfigError, match=message):
            load_config(path)


def test_the_executor_is_not_part_of_the_fingerprint(tmp_path, fake_plugins):
    fake_plugins({"corpuskit.executors": {"journal": "ck_journal:Journal"}}, {"ck_journal": EXECUTOR_PLUGIN})
    write_inputs(tmp_path / "in")
    path = tmp_path / "p.yaml"
    path.write_text(config_text("executor: {workers: 2}\n"))
    first = run_pipeline(load_config(path))
    (tmp_path / "out" / "_run" / "units" / "stage1-shard00001.json").unlink()  # as if killed before the last unit
    path.write_text(config_text(f"executor: {{kind: journal, journal: {tmp_path / 'j.txt'}}}\n"))
    resumed = run_pipeline(load_config(path), resume=True)
    assert (tmp_path / "j.txt").read_text().split() == ["stage1-shard00001"]  # only the missing unit ran
    assert resumed["documents"] == first["documents"]


def test_the_cli_picks_the_executor_and_validate_names_it(tmp_path, fake_plugins):
    from click.testing import CliRunner

    from corpuskit.cli import main

    fake_plugins({"corpuskit.executors": {"journal": "ck_journal:Journal"}}, {"ck_journal": EXECUTOR_PLUGIN})
    write_inputs(tmp_path / "in")
    path = tmp_path / "p.yaml"
    path.write_text(config_text(f"executor: {{journal: {tmp_path / 'j.txt'}}}\n"))
    result = CliRunner().invoke(main, ["pipeline", "run", str(path), "--no-progress"])
    assert result.exit_code != 0 and "unknown parameter 'journal'" in result.output  # local takes no journal
    result = CliRunner().invoke(main, ["pipeline", "run", str(path), "--executor", "journal", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "stage1-map-00000" in (tmp_path / "j.txt").read_text()
    path.write_text(config_text("executor: {workers: 3}\n"))
    result = CliRunner().invoke(main, ["pipeline", "validate", str(path)])
    assert result.exit_code == 0 and "executor local, workers=3" in result.output
