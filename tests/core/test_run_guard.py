"""The run's guard: one run per output folder, resume only on the same inputs, no leftovers, and
workers that die with their driver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from corpuskit.pipeline import load_config, run_pipeline
from corpuskit.pipeline.guard import InputsChangedError, RunLockedError, remove_leftovers

CORPUSKIT = str(Path(sys.executable).with_name("corpuskit"))

SLOW_STEP = '''
import time
from corpuskit.steps import Step

class Slow(Step):
    name = "slow"
    def __init__(self, seconds: float = 0.01) -> None:
        self.seconds = seconds
    def process(self, doc):
        time.sleep(self.seconds)
        return doc
'''


@pytest.fixture
def slow_step(fake_plugins):
    fake_plugins({"corpuskit.steps": {"slow": "ck_slow:Slow"}}, {"ck_slow": SLOW_STEP})


def make_inputs(folder: Path, files: int = 3, per_file: int = 20) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        (folder / f"in-{f}.jsonl").write_text("".join(json.dumps({"id": f"{f}-{i}", "text": f"text {f} {i}"}) + "\n" for i in range(per_file)))


def write_config(tmp_path: Path, seconds: float = 0.0, workers: int = 1, out: str = "out") -> Path:
    path = tmp_path / f"{out}.yaml"
    path.write_text(
        f"inputs:\n  paths: [in/]\nsteps:\n  - slow: {{seconds: {seconds}}}\n  - exact_dedup: {{}}\n"
        f"output:\n  dir: {out}\nexecutor: {{workers: {workers}}}\n"
    )
    return path


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def test_resume_refuses_a_changed_input_set_and_names_the_changes(tmp_path, slow_step):
    make_inputs(tmp_path / "in")
    path = write_config(tmp_path)
    first = run_pipeline(load_config(path))
    (tmp_path / "out" / "_run" / "units" / "stage1-shard00002.json").unlink()  # as if killed near the end

    (tmp_path / "in" / "in-9.jsonl").write_text('{"id": "new", "text": "new"}\n')
    with pytest.raises(InputsChangedError, match=r"(?s)input files changed.*added: .*in-9.jsonl.*--overwrite"):
        run_pipeline(load_config(path), resume=True)
    (tmp_path / "in" / "in-9.jsonl").unlink()

    moved = tmp_path / "in-1.jsonl"
    (tmp_path / "in" / "in-1.jsonl").rename(moved)
    with pytest.raises(InputsChangedError, match=r"removed: .*in-1.jsonl"):
        run_pipeline(load_config(path), resume=True)
    moved.rename(tmp_path / "in" / "in-1.jsonl")

    target = tmp_path / "in" / "in-0.jsonl"
    stat = target.stat()
    target.write_text(target.read_text() + '{"id": "late", "text": "late"}\n')
    with pytest.raises(InputsChangedError, match=r"changed \(size or time\): .*in-0.jsonl"):
        run_pipeline(load_config(path), resume=True)
    target.write_text(target.read_text().rsplit('{"id": "late"', 1)[0])
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    resumed = run_pipeline(load_config(path), resume=True)  # the original inputs again: resumes
    assert resumed["documents"] == first["documents"]


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(tmp_path, slow_step):
    make_inputs(tmp_path / "in", files=2, per_file=40)
    path = write_config(tmp_path, seconds=0.05)
    process = subprocess.Popen([CORPUSKIT, "pipeline", "run", str(path), "--no-progress"], env=os.environ.copy(), stderr=subprocess.DEVNULL)
    try:
        lock = tmp_path / "out" / ".corpuskit.lock"
        wait_for(lambda: lock.exists() and f"pid {process.pid}" in lock.read_text())
        with pytest.raises(RunLockedError, match=rf"another corpuskit run is writing here \(pid {process.pid} on"):
            run_pipeline(load_config(path), overwrite=True)
        assert (tmp_path / "out" / "_run").exists()  # the refused run deleted nothing
        process.send_signal(signal.SIGKILL)
        process.wait()
        summary = run_pipeline(load_config(path), resume=True)  # the dead run's lock went with it
        assert summary["documents"]["input"] == 80
    finally:
        process.kill()


def test_workers_die_with_a_killed_driver(tmp_path, slow_step):
    make_inputs(tmp_path / "in", files=4, per_file=200)
    path = write_config(tmp_path, seconds=0.05, workers=2)
    process = subprocess.Popen([CORPUSKIT, "pipeline", "run", str(path), "--no-progress"], env=os.environ.copy(), stderr=subprocess.DEVNULL)
    try:
        driver = psutil.Process(process.pid)
        wait_for(lambda: len([c for c in driver.children() if "spawn_main" in " ".join(c.cmdline())]) >= 2)
        workers = [c for c in driver.children() if "spawn_main" in " ".join(c.cmdline())]
        process.send_signal(signal.SIGKILL)
        process.wait()
        gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"workers still running after their driver died: {alive}"
    finally:
        process.kill()


def test_resume_removes_the_temporary_files_of_interrupted_writes(tmp_path, slow_step):
    make_inputs(tmp_path / "in")
    path = write_config(tmp_path)
    run_pipeline(load_config(path))
    leftovers = [tmp_path / "out" / ".part-00001-0000.jsonl.gz.abc.tmp", tmp_path / "out" / "_run" / "global" / "stage1" / "map" / ".00001.xyz.tmp"]
    leftovers[0].write_bytes(b"half")
    leftovers[1].mkdir(parents=True)
    (leftovers[1] / "hashes.npy").write_bytes(b"half")
    (tmp_path / "out" / "_run" / "units" / "stage1-shard00001.json").unlink()
    run_pipeline(load_config(path), resume=True)
    assert not any(p.exists() for p in leftovers)
    assert remove_leftovers(tmp_path / "out") == 0


def outputs(folder: Path) -> dict[str, bytes]:
    import gzip

    return {p.name: gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("part-*"))}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_killing_the_driver_or_a_worker_at_a_random_moment_then_resuming_gives_a_fresh_runs_output(tmp_path, slow_step, seed):
    """Odd seeds kill the driver (then --resume), even seeds kill a worker (the executor reruns
    its unit and the run finishes by itself); either way the output is a fresh run's."""
    import random

    rng = random.Random(seed)
    make_inputs(tmp_path / "in", files=4, per_file=30)
    run_pipeline(load_config(write_config(tmp_path, seconds=0.0, out="ref")))
    path = write_config(tmp_path, seconds=0.01, workers=2)
    process = subprocess.Popen([CORPUSKIT, "pipeline", "run", str(path), "--no-progress"], env=os.environ.copy(), stderr=subprocess.DEVNULL)
    try:
        driver = psutil.Process(process.pid)
        wait_for(lambda: len([c for c in driver.children() if "spawn_main" in " ".join(c.cmdline())]) >= 2)
        time.sleep(rng.uniform(0.0, 1.5))
        if seed % 2:
            process.send_signal(signal.SIGKILL)
            process.wait()
            run_pipeline(load_config(path), resume=True)
        else:
            workers = [c for c in driver.children() if "spawn_main" in " ".join(c.cmdline())]
            if workers:
                rng.choice(workers).send_signal(signal.SIGKILL)
            assert process.wait(timeout=120) == 0
    finally:
        process.kill()
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")
    summary = json.loads((tmp_path / "out" / "_run" / "summary.json").read_text())
    assert summary["documents"] == json.loads((tmp_path / "ref" / "_run" / "summary.json").read_text())["documents"]


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_random_input_set_changes_are_refused_by_name_or_resume_to_a_fresh_runs_output(tmp_path, slow_step, seed):
    """Random crash point and random changes to the input set: --resume either refuses naming
    exactly the changed files or, once the inputs are restored, gives the fresh run's output."""
    import random

    rng = random.Random(seed)
    make_inputs(tmp_path / "in", files=4, per_file=15)
    fresh = run_pipeline(load_config(write_config(tmp_path, out="ref")))
    path = write_config(tmp_path)
    run_pipeline(load_config(path))
    markers = sorted((tmp_path / "out" / "_run" / "units").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    for marker in markers[rng.randrange(len(markers)):]:
        marker.unlink()  # crashed here
    files = sorted((tmp_path / "in").glob("*.jsonl"))
    added = [tmp_path / "in" / f"extra-{i}.jsonl" for i in range(rng.randint(0, 2))]
    removed = rng.sample(files, rng.randint(0, 2))
    changed = [f for f in files if f not in removed and rng.random() < 0.3]
    saved = {f: (f.read_bytes(), f.stat()) for f in files}
    for f in added:
        f.write_text('{"id": "x", "text": "x"}\n')
    for f in removed:
        f.unlink()
    for f in changed:
        f.write_text(f.read_text() + '{"id": "late", "text": "late"}\n')
    if added or removed or changed:
        with pytest.raises(InputsChangedError) as refused:
            run_pipeline(load_config(path), resume=True)
        message = str(refused.value)
        for f in added:
            assert f"added: {f}" in message
        for f in removed:
            assert f"removed: {f}" in message
        for f in changed:
            assert f"changed (size or time): {f}" in message
    for f in added:
        f.unlink()
    for f, (data, stat) in saved.items():
        f.write_bytes(data)
        os.utime(f, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    resumed = run_pipeline(load_config(path), resume=True)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")
    assert resumed["documents"] == fresh["documents"]
