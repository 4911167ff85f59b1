"""Planning a run: stages, input shards, step classes, and where every unit's files go.

Steps run in stages separated by global steps: every stage after the first starts with a
global step, whose map → reduce units run between the stage before it and the stage itself.
A unit is one (stage, input shard) pair, one map shard or one reduce task; `RunLayout` names
its output and its completion marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpuskit import registry
from corpuskit.files import expand_inputs
from corpuskit.pipeline.config import PipelineConfig, StepSpec
from corpuskit.steps import GlobalStep, GlobalWork, Step

RUN = "_run"


def step_classes(specs: list[StepSpec]) -> dict[str, type[Step]]:
    """The step classes the specs name, from one registry lookup."""
    available = registry.plugins("steps")
    return {spec.name: available[spec.name].load() for spec in specs}


def build_step(spec: StepSpec, classes: dict[str, type[Step]] | None = None) -> Step:
    cls = (classes or step_classes([spec]))[spec.name]
    return cls(**spec.params)


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


@dataclass(frozen=True)
class RunLayout:
    """The files of one run under `<output>/_run/`: markers, intermediate stages, global work."""

    output_dir: Path
    n_stages: int

    @property
    def run_dir(self) -> Path:
        return self.output_dir / RUN

    def stage_dir(self, stage: int) -> Path:
        """Where stage `stage` writes documents: the output folder for the last stage."""
        return self.output_dir if stage == self.n_stages - 1 else self.run_dir / f"stage{stage}"

    def stage_marker(self, stage: int, shard: int) -> Path:
        return self.run_dir / "units" / f"stage{stage}-shard{shard:05d}.json"

    def global_work(self, stage: int, n_shards: int) -> GlobalWork:
        """The folder of the global step that opens `stage`."""
        return GlobalWork(self.run_dir / "global" / f"stage{stage}", n_shards)

    def map_marker(self, stage: int, shard: int) -> Path:
        return self.run_dir / "units" / f"stage{stage}-map-{shard:05d}.json"

    def reduce_marker(self, stage: int, task: str) -> Path:
        return self.run_dir / "units" / f"stage{stage}-reduce-{task}.json"
