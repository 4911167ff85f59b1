"""The pipeline runner: plans a run's units and hands them, stage by stage, to an executor.

Units (see `corpuskit.pipeline.units`): a stage unit per (stage, input shard); for every global
step, a map unit per shard and its reduce tasks, round by round. Stage k writes its documents
to `_run/stage<k>/`, the global step opening stage k+1 maps and reduces over them, and stage
k+1 runs over them; the last stage writes with the configured writer.

A unit is complete when its marker under `_run/units/` exists; it is written atomically after
the unit's output files, which are themselves renamed into place only when whole. `--resume`
skips complete units and redoes the rest, so a run killed at any point (kill -9 included) and
resumed produces exactly the files of an uninterrupted run; the run's guard
(`corpuskit.pipeline.guard`) locks the folder against a second run and refuses to resume on
changed inputs. The executor is a plugin
(`corpuskit.executors`) chosen by the config; the runner never names one.

Memory in this process: the list of units (a few per shard), never per-document data.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from corpuskit.executors import Executor, Unit, build_executor
from corpuskit.files import write_json_atomic
from corpuskit.pipeline.config import PipelineConfig
from corpuskit.pipeline.guard import LOCK_NAME, OutputLock, check_inputs, clear_output, record_inputs, remove_leftovers
from corpuskit.pipeline.plan import RUN, RunLayout, build_step, list_shards, plan_stages
from corpuskit.pipeline.summary import SUMMARY_FORMAT, summarize
from corpuskit.pipeline.units import PipelineError, map_unit, reduce_unit, stage_unit
from corpuskit.steps import GlobalStep
from corpuskit.writers.base import write_manifest

log = logging.getLogger(__name__)

__all__ = ["PipelineError", "RUN", "SUMMARY_FORMAT", "list_shards", "plan_stages", "run_pipeline"]


def run_pipeline(
    config: PipelineConfig,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Run (or resume) the pipeline and return the run summary (also written to `_run/summary.json`).

    `progress(n)` is called with the number of documents finished since the last call. The
    executor is built from the config unless one is given (it is then left open).
    """
    stages = plan_stages(config.steps)
    layout = RunLayout(config.output_dir, len(stages))
    shards = list_shards(config)
    with OutputLock(config.output_dir):
        _prepare(config, shards, resume, overwrite)
        return _run(config, layout, stages, shards, progress, executor)


def _run(config: PipelineConfig, layout: RunLayout, stages: list, shards: list[str], progress: Callable[[int], None] | None, executor: Executor | None) -> dict[str, Any]:
    started = time.time()
    own = executor is None
    executor = executor or build_executor(config.executor, **config.executor_params)
    try:
        for stage in range(len(stages)):
            if stage > 0:
                _run_global_step(config, layout, stages, stage, len(shards), executor)
            units = [
                Unit(f"stage{stage}-shard{shard:05d}", stage_unit, (config, stage, shard, shards[shard], len(shards)))
                for shard in range(len(shards))
                if not layout.stage_marker(stage, shard).exists()
            ]
            executor.run(units, progress)
    finally:
        if own:
            executor.close()
    summary = summarize(config, layout, shards, time.time() - started)
    write_json_atomic(layout.run_dir / "summary.json", summary)
    write_manifest(config.output_dir, summary["files"], {"summary": f"{RUN}/summary.json"})
    return summary


def _run_global_step(config: PipelineConfig, layout: RunLayout, stages: list, stage: int, n_shards: int, executor: Executor) -> None:
    """Map every shard of stage-1's output, then run the reduce rounds; finished units are skipped."""
    spec = stages[stage][0]
    step = build_step(spec)
    assert isinstance(step, GlobalStep)
    log.info("%s: map over %d shard(s)", spec.label, n_shards)
    executor.run([
        Unit(f"stage{stage}-map-{shard:05d}", map_unit, (config, stage, shard, n_shards))
        for shard in range(n_shards)
        if not layout.map_marker(stage, shard).exists()
    ])
    for round_index, tasks in enumerate(step.reduce_rounds(layout.global_work(stage, n_shards))):
        log.info("%s: reduce round %d, %d task(s)", spec.label, round_index + 1, len(tasks))
        executor.run([
            Unit(f"stage{stage}-reduce-{task.name}", reduce_unit, (config, stage, task, n_shards))
            for task in tasks
            if not layout.reduce_marker(stage, task.name).exists()
        ])


def _prepare(config: PipelineConfig, shards: list[str], resume: bool, overwrite: bool) -> None:
    """Check the output folder (this process holds its lock): start fresh, or resume the same run."""
    out = config.output_dir
    run_dir = out / RUN
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
            check_inputs(run_dir, shards)
            removed = remove_leftovers(out)
            if removed:
                log.info("%s: removed %d temporary file(s) of interrupted writes", out, removed)
            return
        if not overwrite:
            raise PipelineError(f"{out}: holds a previous run; pass --resume to continue it or --overwrite to start over")
    elif any(entry.name != LOCK_NAME for entry in out.iterdir()) and not overwrite:
        raise PipelineError(f"{out}: output directory is not empty; pass --overwrite to replace its contents")
    if overwrite:
        clear_output(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    record_inputs(run_dir, shards)
    write_json_atomic(marker, {"fingerprint": fingerprint, "config": config.source})
