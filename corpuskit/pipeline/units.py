"""The units a pipeline run is made of, as functions an executor can run anywhere.

- `stage_unit`: one input shard through one stage's steps into that stage's output files.
- `map_unit`: one shard of a stage's output through the next global step's `map`.
- `reduce_unit`: one reduce task of a global step.

Each is idempotent: it clears what an interrupted attempt left, writes its files atomically,
and writes its marker (its counts and files, as JSON) last. A unit whose marker exists is done.

Memory: a stage unit holds one document at a time plus each step's state (a global step's state
is its shard's decisions); map and reduce units hold what their step's docstring states.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from corpuskit import registry
from corpuskit.document import CorpusError, Document, Drop, Rejected
from corpuskit.files import atomic_dir, write_json_atomic
from corpuskit.pipeline.config import PipelineConfig, StepSpec
from corpuskit.pipeline.plan import RunLayout, build_step, plan_stages, step_classes
from corpuskit.readers.base import build_reader, reader_for
from corpuskit.readers.jsonl import JsonlReader
from corpuskit.steps import GlobalStep, ReduceTask, Step, StepStateError
from corpuskit.writers.jsonl import JsonlWriter

Progress = Callable[[int], None]


class PipelineError(CorpusError):
    """A run that cannot go on: an errored record under on_error=raise, or a stale run directory."""


def layout_of(config: PipelineConfig) -> tuple[list[list[StepSpec]], RunLayout]:
    stages = plan_stages(config.steps)
    return stages, RunLayout(config.output_dir, len(stages))


def stage_unit(config: PipelineConfig, stage: int, shard: int, source: str, n_shards: int, progress: Progress) -> dict[str, Any]:
    """Process one input shard through one stage's steps and write its output and marker."""
    stages, layout = layout_of(config)
    last = stage == len(stages) - 1
    specs = stages[stage]
    classes = step_classes(specs)
    steps = [build_step(spec, classes) for spec in specs]
    if stage > 0:
        global_step = steps[0]
        assert isinstance(global_step, GlobalStep)
        global_step.load_shard_state(layout.global_work(stage, n_shards), shard)
    out_dir = layout.stage_dir(stage)
    prefix = f"part-{shard:05d}"
    for stale in out_dir.glob(f"{prefix}-*"):
        stale.unlink()  # leftovers of an interrupted attempt at this unit
    counts = UnitCounts(stage=stage, shard=shard, source=source, labels=[spec.label for spec in specs])
    documents = _source_documents(config, layout, stage, shard, source)
    kept = _apply(steps, specs, documents, counts, config.on_error, progress)
    if last:
        writer = registry.load("writers", config.writer)(**config.writer_options)
    else:
        writer = JsonlWriter(compression="zst")
    counts.files = writer.write_all(kept, out_dir, prefix)
    result = counts.to_dict()
    write_json_atomic(layout.stage_marker(stage, shard), result)
    return result


def map_unit(config: PipelineConfig, stage: int, shard: int, n_shards: int, progress: Progress) -> dict[str, Any]:
    """The global step opening `stage` maps shard `shard` of stage-1's output."""
    stages, layout = layout_of(config)
    step = build_step(stages[stage][0])
    assert isinstance(step, GlobalStep)
    work = layout.global_work(stage, n_shards)
    with atomic_dir(work.map_dir(shard)) as out:
        step.map(intermediate_documents(layout, stage - 1, shard), out)
    result = {"stage": stage, "map": shard}
    write_json_atomic(layout.map_marker(stage, shard), result)
    return result


def reduce_unit(config: PipelineConfig, stage: int, task: ReduceTask, n_shards: int, progress: Progress) -> dict[str, Any]:
    """One reduce task of the global step opening `stage`; its counters go into the summary."""
    stages, layout = layout_of(config)
    spec = stages[stage][0]
    step = build_step(spec)
    assert isinstance(step, GlobalStep)
    work = layout.global_work(stage, n_shards)
    with atomic_dir(work.task_dir(task.name)) as out:
        counters = step.reduce(task, work, out)
    result = {"stage": stage, "reduce": task.name, "counters": {spec.label: dict(counters)}}
    write_json_atomic(layout.reduce_marker(stage, task.name), result)
    return result


def intermediate_documents(layout: RunLayout, stage: int, shard: int) -> Iterator[Document]:
    """The documents stage `stage` kept from input shard `shard`, in order."""
    reader = JsonlReader()
    for path in sorted(layout.stage_dir(stage).glob(f"part-{shard:05d}-*")):
        for item in reader.read(str(path)):
            if isinstance(item, Rejected):
                raise PipelineError(f"intermediate file is damaged: {item.message()}; rerun with --overwrite")
            yield item


def _source_documents(config: PipelineConfig, layout: RunLayout, stage: int, shard: int, source: str) -> Iterator[Document | Rejected]:
    if stage > 0:
        return intermediate_documents(layout, stage - 1, shard)
    if config.reader:
        reader = build_reader(registry.load("readers", config.reader), config.reader_options)
    else:
        reader = reader_for(source, config.reader_options)
    return reader.read(source)


class UnitCounts:
    """What happened to every document of one stage unit; the sums make the run summary."""

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
    progress: Progress,
) -> Iterator[Document]:
    """Run each document through the steps; count every outcome; yield the kept ones."""
    batch = 0
    for item in documents:
        counts.read += 1
        batch += 1
        if batch >= 256:
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
    if batch:
        progress(batch)


def _through_steps(steps: list[Step], specs: list[StepSpec], doc: Document, counts: UnitCounts, on_error: str) -> Document | None:
    """One document through the steps: the document if kept, None if dropped or errored (counted)."""
    for index, (step, spec) in enumerate(zip(steps, specs)):
        counts.entered[index] += 1
        try:
            result = step.process(doc)
        except Exception as exc:  # noqa: BLE001 - a step failing on one document must not stop the run
            if isinstance(exc, StepStateError):
                raise  # the run itself is inconsistent, not this document
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
