"""`corpuskit quickstart`: the end-to-end demo on a generated sample.

Generate the sample, run the default pipeline on it, write the report, then run every quickstart
stage that plugin packages register (tokenizer, embeddings, n-gram LM, ...) on the output.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from corpuskit import registry
from corpuskit.quickstart.context import QuickstartContext

__all__ = ["QuickstartContext", "run_quickstart"]


def run_quickstart(directory: str | Path, workers: int = 1, echo: Callable[[str], None] = print, stages: bool = True) -> dict:
    """Run the demo in `directory` (created or reused); returns the pipeline summary."""
    from corpuskit.pipeline import load_config, run_pipeline
    from corpuskit.pipeline.cli import format_summary
    from corpuskit.pipeline.report import html_report, markdown_report
    from corpuskit.quickstart.sample import write_sample

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    echo(f"[quickstart] writing the sample corpus to {directory / 'sample'}")
    write_sample(directory / "sample")
    config_path = directory / "pipeline.yaml"
    with resources.as_file(resources.files("corpuskit.quickstart") / "pipeline.yaml") as bundled:
        shutil.copyfile(bundled, config_path)
    config = load_config(config_path, overrides={"workers": workers, "progress": False})
    echo(f"[quickstart] running {config_path} ({len(config.steps)} steps, {workers} workers)")
    summary = run_pipeline(config, overwrite=True)
    echo(format_summary(summary))
    (directory / "report.md").write_text(markdown_report(summary), encoding="utf-8")
    (directory / "report.html").write_text(html_report(summary), encoding="utf-8")
    echo(f"[quickstart] report: {directory / 'report.md'} and {directory / 'report.html'}")
    if stages:
        context = QuickstartContext(directory=directory, corpus=config.output_dir, workers=workers, echo=echo)
        for name, plugin in registry.plugins("quickstart").items():
            echo(f"[quickstart] stage {name} ({plugin.package})")
            plugin.load()(context)
    echo("[quickstart] done")
    return summary
