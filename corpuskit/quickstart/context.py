"""What a plugin's quickstart stage receives (entry-point group `corpuskit.quickstart`).

A stage is a function `stage(ctx: QuickstartContext) -> None` registered by a plugin package; the
core's quickstart runs the pipeline on its sample, then every stage in name order. A stage trains
something small on `ctx.corpus` (the pipeline's output folder: `read_corpus`/`iter_texts` read
it), writes under `ctx.directory / <its name>`, and reports through `ctx.echo`. It must finish in
seconds on 2 cores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class QuickstartContext:
    directory: Path  # the quickstart's working folder
    corpus: Path  # the pipeline's output folder (has manifest.json)
    workers: int
    echo: Callable[[str], None]
