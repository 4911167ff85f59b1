"""Files of a run: atomic JSON and safetensors writes, checkpoint folders, finding and loading the latest.

A run folder holds `checkpoints/step_NNNNNNN/` folders, each complete on its own: `model.safetensors`,
`optimizer.safetensors` (AdamW moments, flat), `config.json` (model config) and `state.json`
(training config, step, RNG states, data position). A checkpoint folder is written under a temp
name and renamed, so a kill never leaves a half-written one behind.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np


def write_json(path: Path, obj: Any) -> None:
    """JSON to a temp name beside `path`, then renamed over it."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    from safetensors.numpy import save_file

    tmp = path.with_name(path.name + ".tmp")
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    return load_file(str(path))


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """The run's complete checkpoint folders, oldest first."""
    root = run_dir / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step_") and (p / "state.json").exists())


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = checkpoint_dirs(run_dir)
    return found[-1] if found else None


def save_checkpoint(run_dir: Path, step: int, files: dict[str, dict[str, np.ndarray]], state: dict[str, Any], config: dict[str, Any], keep: int = 2) -> Path:
    """Write checkpoints/step_<step>/ atomically; keep only the `keep` newest checkpoints."""
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:07d}"
    tmp = root / f".tmp_step_{step:07d}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for name, tensors in files.items():
        write_safetensors(tmp / name, tensors)
    write_json(tmp / "config.json", config)
    write_json(tmp / "state.json", state)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in checkpoint_dirs(run_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def resolve_model_dir(path: Path) -> Path:
    """A folder holding config.json + model.safetensors: the path itself, or a run folder's latest checkpoint."""
    if (path / "model.safetensors").exists() and (path / "config.json").exists():
        return path
    latest = latest_checkpoint(path)
    if latest is None:
        raise FileNotFoundError(f"{path}: neither a model folder (config.json + model.safetensors) nor a run folder with checkpoints/")
    return latest


def load_model(path: Path, ops: str = "numba") -> Any:
    """A TransformerLM from a run folder, a checkpoint folder or a saved model folder."""
    from corpuskit.lm.transformer.model import TransformerConfig, TransformerLM

    folder = resolve_model_dir(path)
    config = TransformerConfig.from_dict(read_json(folder / "config.json"), where=str(folder / "config.json"))
    model = TransformerLM(config, ops=ops)
    model.load_state_dict(read_safetensors(folder / "model.safetensors"), where=str(folder / "model.safetensors"))
    return model
