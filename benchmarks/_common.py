"""Shared benchmark plumbing: locate ../shared/data, time things, print ratio tables, record results.

Every benchmark runs our code and the anchor tool side by side in one process and appends a
dated table to benchmarks/RESULTS.md. Absolute times on shared 2-core machines mean little;
the ratio column (ours / anchor, or anchor / ours for throughput — the header says which) does.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "RESULTS.md"


def shared_data(relative: str) -> Path:
    """Path of a file under ../shared/data (or $CORPUSKIT_SHARED_DATA); exit with a message if absent."""
    root = Path(os.environ.get("CORPUSKIT_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = root / relative
    if not path.exists():
        sys.exit(f"benchmark data {path} is missing: set CORPUSKIT_SHARED_DATA to the shared/data folder")
    return path


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of `repeat` calls, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats get 3 significant decimals."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def record(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], command: str, notes: str = "") -> None:
    """Print the table and append it, dated and with the command that reproduces it, to RESULTS.md."""
    table = format_table(header, rows)
    print(f"\n## {title}\n\n{table}\n")
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = [
        f"\n### {title} — {stamp}\n",
        f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n",
        table,
    ]
    if notes:
        block.append(f"\n{notes}")
    with open(RESULTS, "a", encoding="utf-8") as handle:
        handle.write("\n".join(block) + "\n")
