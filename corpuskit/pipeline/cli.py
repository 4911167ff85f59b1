"""`corpuskit pipeline run|report|validate`."""

from __future__ import annotations

import json
import sys

import click


@click.group("pipeline")
def pipeline() -> None:
    """Run a corpus pipeline from a YAML config, and report on runs."""


@pipeline.command("run")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--resume", is_flag=True, help="Continue an interrupted run; finished shards are kept.")
@click.option("--overwrite", is_flag=True, help="Delete a previous run in the output folder first.")
@click.option("--executor", "executor_kind", metavar="KIND", help="Executor plugin (overrides executor.kind), e.g. local.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (overrides executor.workers).")
@click.option("--on-error", type=click.Choice(["skip", "raise"]), help="Overrides the config's on_error.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def run_cmd(config: str, resume: bool, overwrite: bool, executor_kind: str | None, workers: int | None, on_error: str | None, no_progress: bool) -> None:
    """Run the pipeline CONFIG; print the summary.

    \b
    Examples:
      corpuskit pipeline run pipeline.yaml --workers 4
      corpuskit pipeline run pipeline.yaml --resume      # after a crash
    """
    from corpuskit.document import CorpusError
    from corpuskit.pipeline import load_config

    try:
        cfg = load_config(config, overrides={"executor": executor_kind, "workers": workers, "on_error": on_error})
        summary = _run_with_progress(cfg, resume, overwrite, progress=cfg.progress and not no_progress)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    except (ValueError, OSError) as exc:  # ConfigError, parameter errors, missing inputs
        raise click.ClickException(str(exc)) from None
    click.echo(format_summary(summary))


def _run_with_progress(cfg, resume: bool, overwrite: bool, progress: bool) -> dict:
    from corpuskit.pipeline import run_pipeline

    if not progress:
        return run_pipeline(cfg, resume=resume, overwrite=overwrite)
    from tqdm import tqdm

    with tqdm(unit=" docs", desc="pipeline", file=sys.stderr, dynamic_ncols=True, mininterval=0.5) as bar:
        return run_pipeline(cfg, resume=resume, overwrite=overwrite, progress=bar.update)


def format_summary(summary: dict) -> str:
    """A few lines for the terminal: totals, then drops and errors by reason."""
    docs = summary["documents"]
    rate = docs["input"] / summary["seconds"] if summary["seconds"] else 0.0
    lines = [
        f"{docs['input']:,} documents read = {docs['kept']:,} kept + {docs['dropped']:,} dropped + {docs['errored']:,} errored"
        f"  ({summary['seconds']:.1f} s, {rate:,.0f} docs/s)",
    ]
    for title, key in (("dropped", "dropped"), ("errored", "errored")):
        if summary[key]:
            lines.append(f"{title}:")
            lines += [f"  {n:>9,}  {reason}" for reason, n in sorted(summary[key].items(), key=lambda kv: -kv[1])]
    lines.append(f"output: {summary['output']}  (report: corpuskit pipeline report {summary['output']})")
    return "\n".join(lines)


@pipeline.command("report")
@click.argument("run_dir", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of standard output.")
def report_cmd(run_dir: str, fmt: str, output: str | None) -> None:
    """Report on a finished run: funnel of documents per step, drop reasons, errors.

    \b
    Examples:
      corpuskit pipeline report out/
      corpuskit pipeline report out/ --format html -o report.html
    """
    from corpuskit.document import CorpusError
    from corpuskit.files import atomic_write
    from corpuskit.pipeline.report import html_report, load_summary, markdown_report

    try:
        summary = load_summary(run_dir)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    text = {"md": markdown_report, "html": html_report, "json": lambda s: json.dumps(s, indent=2)}[fmt](summary)
    if output:
        with atomic_write(output, "w") as handle:
            handle.write(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


@pipeline.command("validate")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
def validate_cmd(config: str) -> None:
    """Check CONFIG (steps, parameters, types, inputs) without running it.

    \b
    Example:
      corpuskit pipeline validate pipeline.yaml
    """
    from corpuskit.pipeline import load_config
    from corpuskit.pipeline.plan import list_shards

    try:
        cfg = load_config(config)
        shards = list_shards(cfg)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    executor = ", ".join([cfg.executor] + [f"{k}={v}" for k, v in cfg.executor_params.items()])
    click.echo(f"ok: {len(shards)} input shard(s), {len(cfg.steps)} step(s): {', '.join(s.label for s in cfg.steps) or 'none'}; executor {executor}")
