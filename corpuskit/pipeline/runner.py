"""The pipeline runner: input shards through steps into sharded output, resumable.

Work is split into units: one per (stage, input file). Steps run in stages separated by global
steps (dedup), which must see every document before deciding any: stage k writes its
documents to `_run/stage<k>/`, the global step that opens stage k+1 is fitted over all of them
in shard order, and stage k+1 runs over them. The last stage writes with the configured writer.

A unit is complete when its marker `_run/units/stage<k>-shard<s>.json` (its counts and files)
exists; it is written atomically after the unit's output files, which are themselves renamed
into place only when whole. `--resume` skips complete units and redoes the rest after deleting
their partial output, so a run killed at any point (kill -9 included) and resumed produces
exactly the files of an uninterrupted run.

Memory: per worker, one document plus each step's own state (a global step's state grows with
the number of documents, e.g. one hash per document for exact dedup).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from corpuskit import registry
from corpuskit.document import CorpusError, Document, Drop, Rejected
from corpuskit.files import expand_inputs, write_json_atomic
from corpuskit.pipeline.config import PipelineConfig, StepSpec
from corpuskit.readers.base import build_reader, reader_for
from corpuskit.readers.jsonl import JsonlReader
from corpuskit.steps import GlobalStep, Step
from corpuskit.writers.base import write_manifest
from corpuskit.writers.jsonl import JsonlWriter

log = logging.getLogger(__name__)

RUN = "_run"
SUMMARY_FORMAT = "corpuskit.run-summary/1"


class PipelineError(CorpusError):
    """A run that cannot go on: an errored record under on_error=raise, or a stale run directory."""


def plan_stages(steps: list[StepSpec]) -> list[list[StepSpec]]:
    """Split the steps into stages; every stage after the first starts with a global step."""
    classes = step_classes(steps)
    stages: list[list[StepSpec]] = [[]]
    for spec in steps:
        if issubclass(classes[spec.name], GlobalStep):
            stages.append([spec])
        else:
            stages[-1].append(spec)
    return stages


def list_shards(config: PipelineConfig) -> list[str]:
    """The input shards: one per file (sorted), or the dataset names for readers without files."""
    if config.reader is not None and not getattr(registry.load("readers", config.reader), "suffixes", ()):
        return list(config.inputs)
    return [str(p) for p in expand_inputs(config.inputs)]


def run_pipeline(
    config: PipelineConfig,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the pipeline and return the run summary (also written to `_run/summary.json`).

    `progress(n)` is called with the number of documents finished since the last call.
    """
    out = config.output_dir
    run_dir = out / RUN
    _prepare(config, run_dir, resume, overwrite)
    stages = plan_stages(config.steps)
    shards = list_shards(config)
    started = time.time()
    with WorkerPool(config.workers) as pool:
        for stage in range(len(stages)):
            if stage > 0:
                _fit_global_step(config, stages, stage, len(shards))
            todo = [shard for shard in range(len(shards)) if not _unit_marker(run_dir, stage, shard).exists()]
            pool.run_units(config, stage, shards, todo, progress)
    summary = summarize(config, stages, shards, time.time() - started)
    write_json_atomic(run_dir / "summary.json", summary)
    write_manifest(out, summary["files"], {"summary": f"{RUN}/summary.json"})
    return summary


def _prepare(config: PipelineConfig, run_dir: Path, resume: bool, overwrite: bool) -> None:
    out = config.output_dir
    marker = run_dir / "config.json"
    fingerprint = config.fingerprint()
    if marker.exists():
        previous = json.loads(marker.read_text())
        if resume:
            if previous["fingerprint"] != fingerprint:
                raise PipelineError(
                    f"{out}: the config changed since this run started (fingerprint {previous['fingerprint']} != "
                    f"{fingerprint}); resume with the same config, or start over with --overwrite"
                )
            return
        if not overwrite:
            raise PipelineError(f"{out}: holds a previous run; pass --resume to continue it or --overwrite to start over")
    elif out.exists() and any(out.iterdir()) and not overwrite:
        raise PipelineError(f"{out}: output directory is not empty; pass --overwrite to replace its contents")
    if out.exists() and overwrite:
        shutil.rmtree(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(marker, {"fingerprint": fingerprint, "config": config.source})


def _unit_marker(run_dir: Path, stage: int, shard: int) -> Path:
    return run_dir / "units" / f"stage{stage}-shard{shard:05d}.json"


def _stage_dir(config: PipelineConfig, stage: int, last: bool) -> Path:
    return config.output_dir if last else config.output_dir / RUN / f"stage{stage}"


def _state_dir(config: PipelineConfig, stage: int) -> Path:
    return config.output_dir / RUN / "state" / f"stage{stage}"


def _fit_global_step(config: PipelineConfig, stages: list[list[StepSpec]], stage: int, n_shards: int) -> None:
    """Fit the global step opening `stage` over every document of stage-1, unless already saved."""
    state_dir = _state_dir(config, stage)
    done = state_dir.with_name(state_dir.name + ".done")
    if done.exists():
        return
    spec = stages[stage][0]
    step = _build_step(spec)
    log.info("fitting %s over the output of stage %d", spec.label, stage - 1)
    step.fit(_stage_documents(config, stage - 1, range(n_shards)))
    tmp = state_dir.with_name(state_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    step.save_state(tmp)
    shutil.rmtree(state_dir, ignore_errors=True)
    os.replace(tmp, state_dir)
    write_json_atomic(done, {"step": spec.label})


def _stage_documents(config: PipelineConfig, stage: int, shards: Any) -> Iterator[Document]:
    """The documents stage `stage` kept, in shard order (input of the next stage)."""
    for shard in shards:
        yield from _intermediate(config, stage, shard)


def _intermediate(config: PipelineConfig, stage: int, shard: int) -> Iterator[Document]:
    reader = JsonlReader()
    for path in sorted(_stage_dir(config, stage, last=False).glob(f"part-{shard:05d}-*")):
        for item in reader.read(str(path)):
            if isinstance(item, Rejected):
                raise PipelineError(f"intermediate file is damaged: {item.message()}; rerun with --overwrite")
            yield item


class WorkerPool:
    """Runs units in this process (workers=1) or in a pool of spawned processes, started once
    on first need and shared by every stage (starting workers costs imports and model loads)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: Any = None
        self.queue: Any = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate() if exc[0] is not None else self.pool.close()
            self.pool.join()

    def run_units(self, config: PipelineConfig, stage: int, shards: list[str], todo: list[int], progress: Callable[[int], None] | None) -> None:
        if not todo:
            return
        if self.workers == 1 or (len(todo) == 1 and self.pool is None):
            for shard in todo:
                run_unit(config, stage, shard, shards[shard], progress)
            return
        if self.pool is None:
            context = multiprocessing.get_context("spawn")  # fork is unsafe beside numba's and pyarrow's threads
            self.queue = context.Queue()
            self.pool = context.Pool(self.workers, initializer=_init_worker, initargs=(self.queue,))
        pending = [self.pool.apply_async(_worker_unit, (config, stage, shard, shards[shard])) for shard in todo]
        while pending:
            _drain(self.queue, progress)
            still = []
            for result in pending:
                if result.ready():
                    result.get()  # re-raises a worker's exception here
                else:
                    still.append(result)
            pending = still
            if pending:
                time.sleep(0.05)
        _drain(self.queue, progress)


def _drain(queue: Any, progress: Callable[[int], None] | None) -> None:
    while not queue.empty():
        n = queue.get()
        if progress:
            progress(n)


_worker_queue: Any = None


def _init_worker(queue: Any) -> None:
    global _worker_queue
    _worker_queue = queue


def _worker_unit(config: PipelineConfig, stage: int, shard: int, source: str) -> None:
    run_unit(config, stage, shard, source, _worker_queue.put)


def run_unit(config: PipelineConfig, stage: int, shard: int, source: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Process one input shard through one stage's steps and write its output and marker."""
    stages = plan_stages(config.steps)
    last = stage == len(stages) - 1
    specs = stages[stage]
    classes = step_classes(specs)
    steps = [_build_step(spec, classes) for spec in specs]
    if stage > 0:
        steps[0].load_state(_state_dir(config, stage))
    out_dir = _stage_dir(config, stage, last)
    prefix = f"part-{shard:05d}"
    for stale in out_dir.glob(f"{prefix}-*"):
        stale.unlink()  # leftovers of an interrupted attempt at this unit
    counts = UnitCounts(stage=stage, shard=shard, source=source, labels=[spec.label for spec in specs])
    documents = _source_documents(config, stage, shard, source)
    kept = _apply(steps, specs, documents, counts, config.on_error, progress)
    if last:
        writer = registry.load("writers", config.writer)(**config.writer_options)
    else:
        writer = JsonlWriter(compression="zst")
    counts.files = writer.write_all(kept, out_dir, prefix)
    result = counts.to_dict()
    write_json_atomic(_unit_marker(config.output_dir / RUN, stage, shard), result)
    return result


def _source_documents(config: PipelineConfig, stage: int, shard: int, source: str) -> Iterator[Document | Rejected]:
    if stage > 0:
        return _intermediate(config, stage - 1, shard)
    if config.reader:
        reader = build_reader(registry.load("readers", config.reader), config.reader_options)
    else:
        reader = reader_for(source, config.reader_options)
    return reader.read(source)


class UnitCounts:
    """What happened to every document of one unit; the sums make the run summary."""

    def __init__(self, stage: int, shard: int, source: str, labels: list[str]) -> None:
        self.labels = labels
        self.stage = stage
        self.shard = shard
        self.source = source
        self.read = 0
        self.kept = 0
        self.dropped: Counter[str] = Counter()  # "step: reason"
        self.errored: Counter[str] = Counter()
        self.entered = [0] * len(labels)  # documents that reached each step of the stage
        self.counters: dict[str, dict[str, int]] = {}
        self.examples: dict[str, str] = {}  # first location per error reason
        self.files: list[dict[str, Any]] = []

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "shard": self.shard,
            "source": self.source,
            "read": self.read,
            "kept": self.kept,
            "dropped": dict(self.dropped),
            "errored": dict(self.errored),
            "entered": dict(zip(self.labels, self.entered)),
            "counters": self.counters,
            "examples": self.examples,
            "files": self.files,
        }


def _apply(
    steps: list[Step],
    specs: list[StepSpec],
    documents: Iterator[Document | Rejected],
    counts: UnitCounts,
    on_error: str,
    progress: Callable[[int], None] | None,
) -> Iterator[Document]:
    """Run each document through the steps; count every outcome; yield the kept ones."""
    batch = 0
    for item in documents:
        counts.read += 1
        batch += 1
        if progress and batch >= 256:
            progress(batch)
            batch = 0
        if isinstance(item, Rejected):
            key = f"read: {item.reason}"
            if item.errored:
                if on_error == "raise":
                    raise PipelineError(item.message())
                counts.errored[key] += 1
                counts.examples.setdefault(key, item.message()[:300])
            else:
                counts.dropped[key] += 1
            continue
        doc = _through_steps(steps, specs, item, counts, on_error)
        if doc is not None:
            counts.kept += 1
            yield doc
    for step, spec in zip(steps, specs):
        if step.counters():
            counts.counters[spec.label] = step.counters()
    if progress and batch:
        progress(batch)


def _through_steps(steps: list[Step], specs: list[StepSpec], doc: Document, counts: UnitCounts, on_error: str) -> Document | None:
    """One document through the steps: the document if kept, None if dropped or errored (counted)."""
    for index, (step, spec) in enumerate(zip(steps, specs)):
        counts.entered[index] += 1
        try:
            result = step.process(doc)
        except Exception as exc:  # noqa: BLE001 - a step failing on one document must not stop the run
            key = f"{spec.label}: {type(exc).__name__}"
            where = doc.metadata.get("location", doc.id)
            if on_error == "raise":
                raise PipelineError(f"{where}: step {spec.label} failed: {exc}") from exc
            counts.errored[key] += 1
            counts.examples.setdefault(key, f"{where}: {exc}"[:300])
            return None
        if isinstance(result, Drop):
            counts.dropped[f"{spec.label}: {result.reason}"] += 1
            return None
        doc = result
    return doc


def step_classes(specs: list[StepSpec]) -> dict[str, type[Step]]:
    """The step classes the specs name, from one registry lookup."""
    available = registry.plugins("steps")
    return {spec.name: available[spec.name].load() for spec in specs}


def _build_step(spec: StepSpec, classes: dict[str, type[Step]] | None = None) -> Step:
    cls = (classes or step_classes([spec]))[spec.name]
    return cls(**spec.params)


def summarize(config: PipelineConfig, stages: list[list[StepSpec]], shards: list[str], seconds: float) -> dict[str, Any]:
    """Add up the unit markers: input = kept + dropped + errored, by step and reason."""
    run_dir = config.output_dir / RUN
    last = len(stages) - 1
    dropped: Counter[str] = Counter()
    errored: Counter[str] = Counter()
    entered: Counter[str] = Counter()
    counters: dict[str, Counter[str]] = {}
    examples: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    documents_in = kept = 0
    for stage in range(len(stages)):
        for shard in range(len(shards)):
            unit = json.loads(_unit_marker(run_dir, stage, shard).read_text())
            if stage == 0:
                documents_in += unit["read"]
            if stage == last:
                kept += unit["kept"]
                files.extend(unit["files"])
            dropped.update(unit["dropped"])
            errored.update(unit["errored"])
            entered.update(unit["entered"])
            for label, values in unit["counters"].items():
                counters.setdefault(label, Counter()).update(values)
            for key, example in unit["examples"].items():
                examples.setdefault(key, example)
    total_dropped = sum(dropped.values())
    total_errored = sum(errored.values())
    if documents_in != kept + total_dropped + total_errored:
        raise PipelineError(
            f"internal accounting error: {documents_in} read != {kept} kept + {total_dropped} dropped + {total_errored} errored"
        )
    funnel = [{"step": "read", "documents": documents_in}]
    funnel += [{"step": spec.label, "documents": entered.get(spec.label, 0)} for spec in config.steps]
    funnel.append({"step": "kept", "documents": kept})
    return {
        "format": SUMMARY_FORMAT,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(seconds, 3),
        "inputs": shards,
        "output": str(config.output_dir),
        "documents": {"input": documents_in, "kept": kept, "dropped": total_dropped, "errored": total_errored},
        "dropped": dict(sorted(dropped.items())),
        "errored": dict(sorted(errored.items())),
        "error_examples": examples,
        "funnel": funnel,
        "counters": {label: dict(sorted(values.items())) for label, values in counters.items()},
        "steps": [{"label": s.label, "name": s.name, "params": s.params} for s in config.steps],
        "files": files,
    }
