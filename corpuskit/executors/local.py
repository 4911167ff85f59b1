"""The local executor: units in this process (workers=1) or in a pool of spawned processes.

The pool starts on first need and serves every `run` until `close`, so the stages of a pipeline
share it (starting a worker costs imports and model loads). A worker that dies (SIGKILL, the
OOM killer) breaks the pool and loses every unit in flight: the pool is restarted and the lost
units are run again one at a time, so a unit whose worker dies while it runs alone is the
culprit; it is run again at most `retries` times, then reported as failed by name. Units lost
beside it are not charged. Workers die with the process that started them (Linux), so a killed
driver leaves nothing running. Progress reported
inside workers reaches the caller through a queue.
"""

from __future__ import annotations

import importlib
import logging
import os
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from corpuskit.executors.base import Executor, Progress, Unit, UnitFailed, UnitLoadError

log = logging.getLogger(__name__)


class LocalExecutor(Executor):
    """Run units on this machine.

    `workers`: processes (1 runs units in this process, one after another). `max_in_flight`:
    units submitted at once (default twice the workers), which bounds the memory of queued
    work. `retries`: how often a unit whose worker died is run again before the run fails.
    """

    name = "local"

    def __init__(self, workers: int = 1, max_in_flight: int | None = None, retries: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        if retries < 0:
            raise ValueError(f"retries must be at least 0, got {retries}")
        self.workers = workers
        self.max_in_flight = max_in_flight or 2 * workers
        self.retries = retries
        self._pool: ProcessPoolExecutor | None = None
        self._queue: Any = None
        self._received: dict[str, int] = {}  # progress received per running unit
        self._settled: set[str] = set()

    def run(self, units: Sequence[Unit], progress: Progress | None = None) -> list[Any]:
        if not units:
            return []
        if self.workers == 1 or (len(units) == 1 and self._pool is None):
            return [unit(progress) for unit in units]
        return self._run_pooled(list(units), progress)

    def _run_pooled(self, units: list[Unit], progress: Progress | None) -> list[Any]:
        self._received, self._settled = {}, set()
        results: list[Any] = [None] * len(units)
        deaths = [0] * len(units)  # deaths while running alone: those are certainly the unit's
        waiting = list(range(len(units)))[::-1]  # a stack: pop() takes units in order
        suspects: list[int] = []  # lost with a dead worker; rerun one at a time to find the culprit
        running: dict[Future, int] = {}
        solo: int | None = None  # a suspect running alone: if its worker dies, the unit is the cause
        try:
            while waiting or running or suspects:
                pool = self._ensure_pool()
                if suspects or solo is not None:
                    if not running:
                        solo = suspects.pop()
                        running[pool.submit(_run_in_worker, *_by_name(units[solo]))] = solo
                else:
                    while waiting and len(running) < self.max_in_flight:
                        index = waiting.pop()
                        running[pool.submit(_run_in_worker, *_by_name(units[index]))] = index
                done, _ = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
                self._drain(progress)
                broken = False
                for future in done:
                    index = running.pop(future)
                    was_solo, solo = index == solo, (None if index == solo else solo)
                    error = future.exception()
                    if error is None:
                        results[index], reported = future.result()
                        self._settle(units[index].key, reported, progress)
                    elif isinstance(error, BrokenProcessPool):
                        broken = True
                        if was_solo:
                            deaths[index] += 1
                            self._check_budget(units[index], deaths[index])
                        suspects.append(index)
                    else:
                        raise error
                if broken:
                    suspects.extend(running.values())  # every unit in flight was lost with the pool
                    running.clear()
                    solo = None
                    self._terminate()
            self._drain(progress)
            return results
        except BaseException:
            self._terminate()
            raise

    def _check_budget(self, unit: Unit, deaths: int) -> None:
        if deaths > self.retries:
            raise UnitFailed(
                f"unit {unit.key}: its worker process died {deaths} time(s) while running it alone (killed, or out "
                f"of memory); gave up after {self.retries} retries"
            )
        log.warning("unit %s: its worker process died; running it again (retry %d of %d)", unit.key, deaths, self.retries)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # fork is unsafe beside numba's and pyarrow's threads
            self._queue = context.Queue()
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker, initargs=(self._queue, os.getpid()))
        return self._pool

    def _drain(self, progress: Progress | None) -> None:
        """Pass on the progress workers reported so far (a finished unit's late messages are dropped:
        `_settle` already counted them)."""
        if self._queue is None:
            return
        while True:
            try:
                key, n = self._queue.get_nowait()
            except Exception:  # noqa: BLE001 - queue.Empty, or a queue closed with its pool
                return
            if key in self._settled:
                continue
            self._received[key] = self._received.get(key, 0) + n
            if progress:
                progress(n)

    def _settle(self, key: str, reported: int, progress: Progress | None) -> None:
        """A unit finished having reported `reported` in all: pass on what the queue has not delivered yet."""
        self._drain(progress)
        missing = reported - self._received.pop(key, 0)
        self._settled.add(key)
        if progress and missing:
            progress(missing)

    def _terminate(self) -> None:
        """Stop the pool now, killing busy workers (used on errors and after a worker died)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())  # no public API before Python 3.14
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join(timeout=5)
        self._close_queue()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._close_queue()

    def _close_queue(self) -> None:
        if self._queue is not None:
            self._queue.close()
            self._queue = None


_worker_queue: Any = None


def _init_worker(queue: Any, parent: int) -> None:
    global _worker_queue
    _worker_queue = queue
    _die_with(parent)


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when the process that started it dies (Linux), so a killed
    driver leaves no workers writing behind it. Elsewhere, workers notice a dead parent only
    through their broken queue."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _by_name(unit: Unit) -> tuple[str, str, str, tuple[Any, ...]]:
    """A unit as (module, function name, key, args): the worker imports the function itself, so
    a function it cannot import is an error of that unit, not a dead worker."""
    return unit.function.__module__, unit.function.__qualname__, unit.key, unit.args


def _run_in_worker(module: str, name: str, key: str, args: tuple[Any, ...]) -> tuple[Any, int]:
    """Run a unit in a worker: (its result, the progress it reported in all)."""
    try:
        function: Any = importlib.import_module(module)
        for part in name.split("."):
            function = getattr(function, part)
    except Exception as exc:  # noqa: BLE001 - any import-time failure, reported with the unit's name
        raise UnitLoadError(f"unit {key}: cannot load {module}.{name} in a worker process: {type(exc).__name__}: {exc}") from None
    reported = 0

    def report(n: int) -> None:
        nonlocal reported
        reported += n
        _worker_queue.put((key, n))

    return Unit(key, function, args)(report), reported
