"""Plugin discovery through entry points.

Every reader, step, writer, executor, trainer, CLI command group and quickstart stage — the built-in ones
included — is registered under one of the entry-point groups below, in its package's
`pyproject.toml`. The registry is built on demand (no global state): each call reads the
installed distributions' metadata again, so a package installed later is found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

log = logging.getLogger(__name__)

GROUPS = {
    "readers": "corpuskit.readers",
    "steps": "corpuskit.steps",
    "writers": "corpuskit.writers",
    "executors": "corpuskit.executors",
    "trainers": "corpuskit.trainers",
    "commands": "corpuskit.commands",
    "quickstart": "corpuskit.quickstart",
    "tokenizers": "corpuskit.tokenizers",
}


class PluginError(LookupError):
    """A plugin name that is not registered, or a plugin that fails to load."""


@dataclass(frozen=True)
class Plugin:
    """One registered entry point: its kind, name, target ('module:attr') and distribution."""

    kind: str
    name: str
    target: str
    dist: Any = field(default=None, compare=False, repr=False)

    @property
    def package(self) -> str:
        """The distribution that registered the plugin (read lazily: parsing METADATA is slow)."""
        return self.dist.name if self.dist is not None else "?"

    def load(self) -> Any:
        """Import the plugin's object; an import failure is a PluginError naming the plugin."""
        entry_point = metadata.EntryPoint(name=self.name, value=self.target, group=GROUPS[self.kind])
        try:
            return entry_point.load()
        except Exception as exc:  # noqa: BLE001 - any import-time failure of third-party code
            raise PluginError(f"{self.kind} plugin {self.name!r} ({self.target}, from {self.package}) failed to load: {exc}") from exc


def plugins(kind: str) -> dict[str, Plugin]:
    """All plugins of one kind ('readers', 'steps', ...), by name, sorted by name.

    When two distributions register the same name, the first found wins and a warning names both.
    """
    if kind not in GROUPS:
        raise PluginError(f"unknown plugin kind {kind!r}; kinds: {', '.join(GROUPS)}")
    found: dict[str, Plugin] = {}
    # entry_points(group=...) reads only entry_points.txt files; a distribution's METADATA is
    # parsed (for its name) only when it registers something in this group.
    for entry_point in metadata.entry_points(group=GROUPS[kind]):
        plugin = Plugin(kind, entry_point.name, entry_point.value, entry_point.dist)
        if entry_point.name in found and found[entry_point.name].target != plugin.target:
            log.warning("%s plugin %r registered twice: %s and %s", kind, plugin.name, found[plugin.name].package, plugin.package)
            continue
        found.setdefault(entry_point.name, plugin)
    return dict(sorted(found.items()))


def load(kind: str, name: str) -> Any:
    """Load the plugin `name` of `kind`; an unknown name is an error listing the known ones."""
    available = plugins(kind)
    if name not in available:
        known = ", ".join(available) or "none"
        raise PluginError(f"unknown {kind[:-1]} {name!r}; registered {kind}: {known}")
    return available[name].load()
