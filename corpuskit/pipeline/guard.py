"""What keeps a run's output folder consistent: one writer at a time, resume only on the same input.

- **Lock.** The driver holds an exclusive `flock` on `<output>/.corpuskit.lock` for the whole
  run; a second run on the same folder is refused with the holder's pid. The kernel drops the
  lock when the holder dies (kill -9 included), so a crash never leaves a stale lock. The file
  name starts with a dot, so dataset loaders and input expansion skip it.
- **Inputs by content.** A run records each input shard's path, size and modification time
  (`_run/inputs.json`). `--resume` compares the inputs found now with that record and refuses,
  listing what was added, removed or changed: finished units were made from the old files, and
  a global step's decisions depend on every input, so nothing of the old run can be trusted for
  a different input set (start over with `--overwrite`).
- **Leftovers.** Temporary files and folders of interrupted writes (`.<name>.*.tmp`) are removed
  when a run resumes.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import IO, Any

from corpuskit.document import CorpusError
from corpuskit.files import write_json_atomic

LOCK_NAME = ".corpuskit.lock"


class RunLockedError(CorpusError):
    """Another run holds the output folder."""


class InputsChangedError(CorpusError):
    """`--resume` on an input set that differs from the one the run started with."""


class OutputLock:
    """An exclusive lock on an output folder, held until `release` (or the process's death)."""

    def __init__(self, output_dir: Path) -> None:
        output_dir.mkdir(parents=True, exist_ok=True)
        self.path = output_dir / LOCK_NAME
        self.handle: IO[str] | None = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "unknown"
            self.handle.close()
            self.handle = None
            raise RunLockedError(f"{output_dir}: another corpuskit run is writing here ({holder}); wait for it to end or stop it") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        self.handle.flush()

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None

    def __enter__(self) -> "OutputLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def clear_output(output_dir: Path) -> None:
    """Delete everything in the output folder except the lock file (whose lock we hold)."""
    for entry in output_dir.iterdir():
        if entry.name == LOCK_NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def describe_inputs(shards: list[str]) -> list[dict[str, Any]]:
    """Path, size and modification time of each input shard (dataset names: the name alone)."""
    described = []
    for shard in shards:
        try:
            stat = os.stat(shard)
        except OSError:
            described.append({"path": shard})
            continue
        described.append({"path": shard, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    return described


def record_inputs(run_dir: Path, shards: list[str]) -> None:
    write_json_atomic(run_dir / "inputs.json", {"inputs": describe_inputs(shards)})


def check_inputs(run_dir: Path, shards: list[str]) -> None:
    """Refuse to resume when the input shards differ from those the run recorded."""
    path = run_dir / "inputs.json"
    if not path.exists():
        raise InputsChangedError(f"{run_dir.parent}: this run recorded no input list (made by an older corpuskit?); start over with --overwrite")
    before = {item["path"]: item for item in json.loads(path.read_text(encoding="utf-8"))["inputs"]}
    now = {item["path"]: item for item in describe_inputs(shards)}
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    changed = sorted(p for p in set(now) & set(before) if now[p] != before[p])
    if added or removed or changed:
        lines = [f"  added: {p}" for p in added] + [f"  removed: {p}" for p in removed] + [f"  changed (size or time): {p}" for p in changed]
        raise InputsChangedError(
            f"{run_dir.parent}: the input files changed since this run started, so its finished units cannot be reused:\n"
            + "\n".join(lines[:20]) + (f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else "")
            + "\nrestore the inputs to resume, or start over with --overwrite"
        )


def remove_leftovers(output_dir: Path) -> int:
    """Remove temporary files and folders of interrupted atomic writes; returns how many."""
    removed = 0
    for path in sorted(output_dir.rglob(".*.tmp"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed
