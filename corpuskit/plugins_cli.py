"""`corpuskit plugins`: what is registered, and from which package."""

from __future__ import annotations

import click

from corpuskit import registry


@click.group("plugins")
def plugins() -> None:
    """Inspect registered plugins (readers, steps, writers, trainers, commands)."""


@plugins.command("list")
@click.option("--kind", type=click.Choice(list(registry.GROUPS)), help="Only this kind.")
@click.option("--check/--no-check", default=False, help="Import each plugin and report failures.")
def list_cmd(kind: str | None, check: bool) -> None:
    """Print every registered plugin with the package it comes from.

    \b
    Examples:
      corpuskit plugins list
      corpuskit plugins list --kind steps --check
    """
    for group in [kind] if kind else list(registry.GROUPS):
        found = registry.plugins(group)
        click.echo(f"{group} ({len(found)})")
        for plugin in found.values():
            status = ""
            if check:
                try:
                    plugin.load()
                    status = "  ok"
                except registry.PluginError as exc:
                    status = f"  BROKEN: {exc.__cause__ or exc}"
            click.echo(f"  {plugin.name:<20} {plugin.target:<50} [{plugin.package}]{status}")
