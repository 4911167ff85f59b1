"""The run summary: the unit markers added up, input = kept + dropped + errored."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from corpuskit.pipeline.config import PipelineConfig
from corpuskit.pipeline.plan import RunLayout
from corpuskit.pipeline.units import PipelineError

SUMMARY_FORMAT = "corpuskit.run-summary/1"


def summarize(config: PipelineConfig, layout: RunLayout, shards: list[str], seconds: float) -> dict[str, Any]:
    """Add up the unit markers: input = kept + dropped + errored, by step and reason."""
    last = layout.n_stages - 1
    dropped: Counter[str] = Counter()
    errored: Counter[str] = Counter()
    entered: Counter[str] = Counter()
    counters: dict[str, Counter[str]] = {}
    examples: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    documents_in = kept = 0
    for stage in range(layout.n_stages):
        for shard in range(len(shards)):
            unit = json.loads(layout.stage_marker(stage, shard).read_text())
            if stage == 0:
                documents_in += unit["read"]
            if stage == last:
                kept += unit["kept"]
                files.extend(unit["files"])
            dropped.update(unit["dropped"])
            errored.update(unit["errored"])
            entered.update(unit["entered"])
            _add_counters(counters, unit["counters"])
            for key, example in unit["examples"].items():
                examples.setdefault(key, example)
    for marker in sorted((layout.run_dir / "units").glob("stage*-reduce-*.json")):
        _add_counters(counters, json.loads(marker.read_text())["counters"])
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
        "executor": {"kind": config.executor, **config.executor_params},
        "documents": {"input": documents_in, "kept": kept, "dropped": total_dropped, "errored": total_errored},
        "dropped": dict(sorted(dropped.items())),
        "errored": dict(sorted(errored.items())),
        "error_examples": examples,
        "funnel": funnel,
        "counters": {label: dict(sorted(values.items())) for label, values in counters.items()},
        "steps": [{"label": s.label, "name": s.name, "params": s.params} for s in config.steps],
        "files": files,
    }


def _add_counters(total: dict[str, Counter[str]], unit: dict[str, dict[str, int]]) -> None:
    for label, values in unit.items():
        total.setdefault(label, Counter()).update(values)
