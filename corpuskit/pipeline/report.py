"""Readable run reports (Markdown or self-contained HTML) from `_run/summary.json`."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from corpuskit.document import CorpusError


def load_summary(run_dir: str | Path) -> dict[str, Any]:
    """The summary of the run whose output folder is `run_dir` (or the summary file itself)."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / "_run" / "summary.json"
    if not path.is_file():
        raise CorpusError(f"{path}: no run summary here; is this a finished pipeline output folder?")
    return json.loads(path.read_text(encoding="utf-8"))


def _bar(value: int, top: int, width: int = 30) -> str:
    return "█" * (round(width * value / top) if top else 0)


def markdown_report(summary: dict[str, Any]) -> str:
    """A Markdown report: totals, a text funnel, drop reasons by step, errors with an example each."""
    docs = summary["documents"]
    top = max(docs["input"], 1)
    lines = [
        "# corpuskit run report",
        "",
        f"Output: `{summary['output']}` — finished {summary['finished']} in {summary['seconds']} s",
        "",
        f"**{docs['input']:,} documents read = {docs['kept']:,} kept + {docs['dropped']:,} dropped + {docs['errored']:,} errored**",
        "",
        "## Funnel (documents entering each step)",
        "",
        "| step | documents | share | |",
        "|---|---:|---:|---|",
    ]
    for row in summary["funnel"]:
        lines.append(f"| {row['step']} | {row['documents']:,} | {100 * row['documents'] / top:.1f}% | {_bar(row['documents'], top)} |")
    lines += ["", "## Dropped, by step and reason", ""]
    lines += _reason_table(summary["dropped"]) if summary["dropped"] else ["None."]
    lines += ["", "## Errored", ""]
    if summary["errored"]:
        lines += ["| where: reason | documents | first example |", "|---|---:|---|"]
        for key, n in summary["errored"].items():
            example = summary.get("error_examples", {}).get(key, "").replace("|", "\\|")
            lines.append(f"| {key} | {n:,} | {example} |")
    else:
        lines.append("None.")
    if summary.get("counters"):
        lines += ["", "## Step counters", ""]
        for label, values in summary["counters"].items():
            lines.append(f"- **{label}**: " + ", ".join(f"{k} {v:,}" for k, v in values.items()))
    lines += ["", f"Output files: {len(summary['files'])}", ""]
    return "\n".join(lines)


def _reason_table(reasons: dict[str, int]) -> list[str]:
    rows = ["| step | reason | documents |", "|---|---|---:|"]
    for key, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        step, _, reason = key.partition(": ")
        rows.append(f"| {step} | {reason} | {n:,} |")
    return rows


def html_report(summary: dict[str, Any]) -> str:
    """A self-contained HTML page with an SVG funnel chart and the same tables as Markdown."""
    docs = summary["documents"]
    top = max(docs["input"], 1)
    funnel = summary["funnel"]
    bar_h, gap, label_w, chart_w = 22, 6, 180, 520
    height = len(funnel) * (bar_h + gap) + gap
    bars = []
    for i, row in enumerate(funnel):
        y = gap + i * (bar_h + gap)
        w = max(1, round(chart_w * row["documents"] / top))
        x = label_w + (chart_w - w) / 2
        bars.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{html.escape(row["step"])}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{w}" height="{bar_h}" fill="#4a7fb5"/>'
            f'<text x="{label_w + chart_w + 8}" y="{y + 15}">{row["documents"]:,}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + chart_w + 90}" height="{height}" '
        f'font-family="sans-serif" font-size="12">{"".join(bars)}</svg>'
    )

    def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><tr>{head}</tr>{body}</table>" if rows else "<p>None.</p>"

    drops = [(*k.partition(": ")[::2], f"{n:,}") for k, n in sorted(summary["dropped"].items(), key=lambda kv: -kv[1])]
    errors = [(k, f"{n:,}", summary.get("error_examples", {}).get(k, "")) for k, n in summary["errored"].items()]
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>corpuskit run report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}</style></head><body>
<h1>corpuskit run report</h1>
<p>Output <code>{html.escape(summary['output'])}</code>, finished {summary['finished']} in {summary['seconds']} s.</p>
<p><b>{docs['input']:,} read = {docs['kept']:,} kept + {docs['dropped']:,} dropped + {docs['errored']:,} errored</b></p>
<h2>Funnel</h2>{svg}
<h2>Dropped, by step and reason</h2>{table(drops, ("step", "reason", "documents"))}
<h2>Errored</h2>{table(errors, ("where: reason", "documents", "first example"))}
</body></html>
"""
