"""Shared fixtures: registering temporary plugins through a real entry point."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest


def install_fake_distribution(root: Path, name: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str]) -> Path:
    """Write `<root>/<name>-1.0.dist-info` (METADATA + entry_points.txt) and plugin modules.

    Putting `root` on sys.path makes importlib.metadata find the distribution exactly as it
    finds an installed third-party package; spawned worker processes inherit sys.path.
    """
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"  # wheel naming: dashes become underscores
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = []
    for group, items in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in items.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)
    return root


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch):
    """Return a function that registers plugins for the duration of one test."""

    def register(entry_points: dict[str, dict[str, str]], modules: dict[str, str], name: str = "corpuskit-testplugins") -> Path:
        root = install_fake_distribution(tmp_path / "site", name, entry_points, modules)
        monkeypatch.syspath_prepend(str(root))
        monkeypatch.setenv("PYTHONPATH", str(root) + (":" + __import__("os").environ["PYTHONPATH"] if __import__("os").environ.get("PYTHONPATH") else ""))
        importlib.invalidate_caches()
        for module in modules:
            sys.modules.pop(module, None)
        return root

    return register
