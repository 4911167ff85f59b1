"""The `corpuskit` command. Its sub-commands are plugins (entry-point group `corpuskit.commands`).

The core mounts whatever command groups are registered — its own `pipeline`, `plugins` and
`dedup`, and `tokenizer`, `embed`, `lm` from the plugin packages — and imports each only when it
is invoked, so `corpuskit --help` stays fast.
"""

from __future__ import annotations

import logging

import click

from corpuskit import __version__, registry


class PluginGroup(click.Group):
    """A click group whose sub-commands are loaded lazily from `corpuskit.commands` entry points."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(registry.plugins("commands")))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        plugin = registry.plugins("commands").get(name)
        if plugin is None:
            return None
        try:
            return plugin.load()
        except registry.PluginError as exc:
            return _broken_command(name, str(exc))


def _broken_command(name: str, message: str) -> click.Command:
    @click.command(name, help=f"(unavailable: {message})")
    def broken() -> None:
        raise click.ClickException(message)

    return broken


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corpuskit")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def main(verbose: int) -> None:
    """corpuskit: raw text to trained models.

    \b
    Examples:
      corpuskit quickstart                       # end-to-end demo on a bundled sample
      corpuskit pipeline run pipeline.yaml       # clean a corpus
      corpuskit plugins list                     # readers, steps, writers, trainers
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@main.command("quickstart")
@click.option("--dir", "directory", default="corpuskit-quickstart", show_default=True, help="Where the sample, run and models go.")
@click.option("--workers", default=1, show_default=True, help="Pipeline worker processes (the sample is small: more only adds start-up time).")
def quickstart_cmd(directory: str, workers: int) -> None:
    """Run the bundled end-to-end demo: pipeline, then every plugin's quickstart stage.

    \b
    Example:
      corpuskit quickstart --dir /tmp/demo
    """
    from corpuskit.quickstart import run_quickstart

    run_quickstart(directory, workers=workers, echo=click.echo)
