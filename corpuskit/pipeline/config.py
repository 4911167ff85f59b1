"""The pipeline config: YAML in, a validated PipelineConfig out, before any work starts.

```yaml
inputs:
  paths: [data/*.jsonl.gz, crawl/]   # files, globs, directories; relative to this file
  reader: jsonl                      # optional: by default chosen per file name
  options: {text_field: text}        # reader parameters
steps:
  - normalize: {form: NFC}
  - length: {min_chars: 200}
output:
  dir: out/                          # documents, manifest.json, and _run/ (state, summary)
  writer: jsonl                      # jsonl (default) or parquet
  options: {compression: zst, max_docs: 100000}
executor:
  kind: local                        # an executor plugin (corpuskit.executors); default local
  workers: 2                         # that executor's parameters: local processes
on_error: skip                       # skip (count) or raise; also accepted inside `executor:`
```

The executor is not part of the run's fingerprint: a run started with one executor can be
resumed with another.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpuskit import registry
from corpuskit.pipeline.params import ParamError, check_params

TOP_KEYS = {"inputs", "steps", "output", "executor", "on_error", "progress"}
INPUT_KEYS = {"paths", "reader", "options"}
OUTPUT_KEYS = {"dir", "writer", "options"}
PIPELINE_KEYS = ("on_error", "progress")  # pipeline settings that older configs write under `executor:`


class ConfigError(ValueError):
    """An invalid pipeline config; the message names the file and the offending key."""


@dataclass(frozen=True)
class StepSpec:
    name: str
    params: dict[str, Any]
    label: str  # unique within the pipeline: the name, or name#index when a name repeats


@dataclass(frozen=True)
class PipelineConfig:
    inputs: list[str]
    reader: str | None
    reader_options: dict[str, Any]
    steps: list[StepSpec]
    output_dir: Path
    writer: str
    writer_options: dict[str, Any]
    executor: str = "local"
    executor_params: dict[str, Any] = field(default_factory=dict)
    on_error: str = "skip"
    progress: bool = True
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    def fingerprint(self) -> str:
        """Hash of everything that decides the output (not the executor or progress): a resumed
        run must have the same fingerprint, so a changed config never reuses stale shards."""
        decisive = {
            "inputs": self.inputs,
            "reader": self.reader,
            "reader_options": self.reader_options,
            "steps": [(s.name, s.params) for s in self.steps],
            "writer": self.writer,
            "writer_options": self.writer_options,
            "on_error": self.on_error,
        }
        return hashlib.sha256(json.dumps(decisive, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    """Read and validate a YAML config.

    `overrides` replace settings: `executor` (the kind), `on_error`, `progress`, and any other
    key is a parameter of the executor (e.g. {'workers': 4}); None values are ignored.
    """
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(raw, base=path.parent, where=str(path), overrides=overrides)


def parse_config(raw: Any, base: Path, where: str = "config", overrides: dict[str, Any] | None = None) -> PipelineConfig:
    """Validate a config mapping. Relative paths are taken relative to `base`."""
    _mapping(raw, where)
    _known(raw, TOP_KEYS, where)
    for key in ("inputs", "output"):
        if key not in raw:
            raise ConfigError(f"{where}: missing section {key!r}")

    inputs = _mapping(raw["inputs"], f"{where}: inputs")
    _known(inputs, INPUT_KEYS, f"{where}: inputs")
    paths = inputs.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise ConfigError(f"{where}: inputs.paths must be a non-empty list of paths or globs")
    reader = inputs.get("reader")
    reader_options = _mapping(inputs.get("options", {}), f"{where}: inputs.options")
    if reader is not None:
        reader_cls = _plugin("readers", reader, f"{where}: inputs.reader")
        _params(reader_cls, reader_options, f"{where}: inputs.options (reader {reader!r})")
        if not getattr(reader_cls, "suffixes", ()):
            resolved = list(paths)  # dataset names, not files
        else:
            resolved = [_resolve(p, base) for p in paths]
    else:
        resolved = [_resolve(p, base) for p in paths]

    steps = _steps(raw.get("steps") or [], where)

    output = _mapping(raw["output"], f"{where}: output")
    _known(output, OUTPUT_KEYS, f"{where}: output")
    if not isinstance(output.get("dir"), str):
        raise ConfigError(f"{where}: output.dir must be a path")
    writer = output.get("writer", "jsonl")
    writer_options = _mapping(output.get("options", {}), f"{where}: output.options")
    _params(_plugin("writers", writer, f"{where}: output.writer"), writer_options, f"{where}: output.options (writer {writer!r})")

    kind, executor_params, settings = _executor(raw, where, overrides or {})
    on_error = settings.get("on_error", "skip")
    if on_error not in ("skip", "raise"):
        raise ConfigError(f"{where}: on_error must be 'skip' or 'raise', got {on_error!r}")
    progress = settings.get("progress", True)
    if not isinstance(progress, bool):
        raise ConfigError(f"{where}: progress must be true or false, got {progress!r}")

    return PipelineConfig(
        inputs=resolved,
        reader=reader,
        reader_options=reader_options,
        steps=steps,
        output_dir=Path(_resolve(output["dir"], base)),
        writer=writer,
        writer_options=writer_options,
        executor=kind,
        executor_params=executor_params,
        on_error=on_error,
        progress=progress,
        source=raw,
    )


def _executor(raw: dict[str, Any], where: str, overrides: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(executor kind, its checked parameters, pipeline settings) from the config and overrides."""
    block = dict(_mapping(raw.get("executor", {}) or {}, f"{where}: executor"))
    settings = {}
    for key in PIPELINE_KEYS:
        if key in block and key in raw:
            raise ConfigError(f"{where}: {key!r} is set both at the top level and under executor; keep one")
        if key in block or key in raw:
            settings[key] = block.pop(key) if key in block else raw[key]
    kind = block.pop("kind", "local")
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "executor":
            kind = value
        elif key in PIPELINE_KEYS:
            settings[key] = value
        else:
            block[key] = value
    cls = _plugin("executors", kind, f"{where}: executor.kind")
    params = _params(cls, block, f"{where}: executor (kind {kind!r})")
    try:
        cls(**params)  # value checks (workers >= 1, ...) now, not after reading the corpus
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: executor (kind {kind!r}): {exc}") from None
    return kind, params, settings


def _steps(raw_steps: Any, where: str) -> list[StepSpec]:
    if not isinstance(raw_steps, list):
        raise ConfigError(f"{where}: steps must be a list")
    names = []
    specs = []
    for index, item in enumerate(raw_steps, 1):
        at = f"{where}: steps[{index}]"
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, params = next(iter(item.items()))
            params = params or {}
        else:
            raise ConfigError(f"{at}: a step is a name or a one-key mapping `name: {{param: value}}`, got {item!r}")
        cls = _plugin("steps", name, at)
        specs.append((name, _params(cls, params, f"{at} ({name})")))
        names.append(name)
    return [
        StepSpec(name, params, name if names.count(name) == 1 else f"{name}#{i}") for i, (name, params) in enumerate(specs, 1)
    ]


def _plugin(kind: str, name: Any, where: str) -> type:
    if not isinstance(name, str):
        raise ConfigError(f"{where}: expected a {kind[:-1]} name, got {name!r}")
    try:
        return registry.load(kind, name)
    except registry.PluginError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _params(cls: type, params: Any, where: str) -> dict[str, Any]:
    try:
        return check_params(cls, params, where)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _known(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; expected one of {', '.join(sorted(allowed))}")


def _resolve(path: str, base: Path) -> str:
    return path if Path(path).is_absolute() else str(base / path)
