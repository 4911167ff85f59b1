"""`corpuskit train NAME [options] INPUT... -o OUT`: any registered trainer, its options from its config.

Each trainer of the `corpuskit.trainers` group is a sub-command whose options are built from its
config dataclass, so a third-party trainer gets a CLI by registering: bool → `--x/--no-x`;
int, float, str → a typed option; `Literal[...]` → a choice; a list → repeatable or
comma-separated; `X | None` also takes `none`. Help comes from a field's `metadata["help"]`, or
from a `name: text` line in the config's docstring. An option the trainer does not define is a
usage error naming it. Only options given on the command line are passed: the rest keep the
config's defaults.

Three ways to run: train from texts (the default; `--workers N` counts the input files as
parallel units and merges their counts, `corpuskit.count_units`); `--counts-only` writes the
counts of these inputs (one shard); `--from-counts` merges counts files and trains from them.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import time
import types
import typing
from typing import Any, Literal, Union

import click

from corpuskit import registry

RESERVED = {"output", "text_field", "counts_only", "from_counts", "inputs"}
SHARED = {"progress", "workers"}  # ours unless the trainer's config has a field of that name (then the trainer's)


class TrainGroup(click.Group):
    """Sub-commands are the registered trainers, each built when invoked (nothing imported for --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(registry.plugins("trainers"))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        plugin = registry.plugins("trainers").get(name)
        if plugin is None:
            return None
        try:
            return trainer_command(name, plugin.load())
        except (registry.PluginError, TypeError) as exc:
            message = str(exc)

            @click.command(name, help=f"(unavailable: {message})", context_settings={"ignore_unknown_options": True})
            @click.argument("args", nargs=-1, type=click.UNPROCESSED)
            def broken(args: tuple[str, ...]) -> None:
                raise click.ClickException(message)

            return broken

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List trainers by name and where they come from, without importing them."""
        rows = [(name, f"{plugin.target} [{plugin.package}]") for name, plugin in registry.plugins("trainers").items()]
        with formatter.section("Trainers"):
            formatter.write_dl(rows or [("(none)", "no trainer is registered")])


@click.group("train", cls=TrainGroup, context_settings={"help_option_names": ["-h", "--help"]})
def train() -> None:
    """Train any registered model: corpuskit train NAME [options] INPUT... -o OUT.

    Options are the trainer's config fields (see `corpuskit train NAME --help`).

    \b
    Examples:
      corpuskit train bpe --vocab-size 8000 corpus.txt -o tokenizer.json
      corpuskit train bpe --vocab-size 8000 --workers 4 shards/*.txt -o tokenizer.json
      corpuskit train bpe --counts-only shard-0.txt -o counts-0.npz
      corpuskit train bpe --from-counts counts-*.npz -o tokenizer.json
    """


class TrainerCommand(click.Command):
    """A trainer's command: an unknown option is a usage error that names it and the trainer."""

    def __init__(self, *args: Any, trainer_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trainer_name = trainer_name

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            own = sorted(opt for param in self.params for opt in param.opts if opt.startswith("--") and opt[2:].replace("-", "_") not in RESERVED)
            raise click.UsageError(f"{exc.option_name} is not an option of trainer {self.trainer_name!r}; its options: {', '.join(own) or 'none'}", ctx) from None


def trainer_command(name: str, cls: type) -> click.Command:
    """The click command for trainer class `cls`, options built from `cls.config_class`."""
    config_class = getattr(cls, "config_class", None)
    if config_class is None or not dataclasses.is_dataclass(config_class):
        raise TypeError(f"trainer {name!r} ({cls.__module__}.{cls.__qualname__}) has no config dataclass")
    hints = typing.get_type_hints(config_class)
    helps = option_help(config_class)
    params: list[click.Parameter] = []
    fields = [f for f in dataclasses.fields(config_class) if f.init]
    for f in fields:
        if f.name in RESERVED:
            raise TypeError(f"trainer {name!r}: config field {f.name!r} clashes with an option of corpuskit train")
        params.append(_option(f, hints.get(f.name, Any), helps.get(f.name, "")))
    names = {f.name for f in fields}
    params += [
        click.Option(["-o", "--output"], required=True, type=click.Path(), help="Where the model (a file or, for some trainers, a folder; with --counts-only, the counts) goes."),
        click.Option(["--text-field"], default="text", show_default=True, help="Field holding the text in JSONL/Parquet inputs."),
        click.Option(["--counts-only"], is_flag=True, help="Only count these inputs (a shard) and write the counts to -o."),
        click.Option(["--from-counts"], is_flag=True, help="INPUTs are counts files: merge them and train from the sum."),
        click.Argument(["inputs"], nargs=-1, required=True),
    ]
    if "progress" not in names:
        params.append(click.Option(["--progress/--no-progress"], default=False, show_default=True, help="Show a progress bar while counting."))
    if "workers" not in names:
        params.append(click.Option(["--workers"], default=1, show_default=True, type=click.IntRange(1), help="Processes counting the input files in parallel (one unit per file, merged in a tree); same model as one process."))

    def run(**kwargs: Any) -> None:
        ctx = click.get_current_context()
        given = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
        options = {key: value for key, value in kwargs.items() if key in names and ctx.get_parameter_source(key) in given}
        cli = dict(kwargs)
        if "progress" in names:  # the trainer's own option: our progress bar follows it
            cli["progress"] = bool(options.get("progress", False))
        if "workers" in names:  # the trainer's own option: no counting units
            cli["workers"] = 1
        _run(name, cls, options, cli)

    doc = inspect.getdoc(cls) or f"Train {name}."
    summary = doc.split("\n\n")[0].replace("\n", " ")
    if getattr(cls, "input_kind", "texts") == "path":
        inputs_help = "INPUT: the one folder or file this trainer learns from (see its documentation)."
    else:
        inputs_help = "INPUTs: text, JSONL, Parquet files, globs, directories or pipeline output folders."
    return TrainerCommand(
        name,
        params=params,
        callback=run,
        help=f"{summary}\n\n{inputs_help}",
        short_help=summary,
        trainer_name=name,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


def _run(name: str, cls: type, options: dict[str, Any], cli: dict[str, Any]) -> None:
    from corpuskit.document import CorpusError
    from corpuskit.trainer import Counts, ParamError

    inputs, output = list(cli["inputs"]), cli["output"]
    if cli["counts_only"] and cli["from_counts"]:
        raise click.UsageError("--counts-only and --from-counts exclude each other")
    start = time.perf_counter()
    try:
        trainer = cls(**options)
    except ParamError as exc:
        raise click.UsageError(str(exc)) from None
    counts_class = getattr(cls, "counts_class", None)
    if (cli["counts_only"] or cli["from_counts"]) and counts_class is None:
        raise click.UsageError(f"trainer {name!r} learns from prepared shards and has no counts: drop --counts-only/--from-counts")
    corpus: Any = Texts(inputs, cli["text_field"])
    if getattr(cls, "input_kind", "texts") == "path":
        if len(inputs) != 1:
            raise click.UsageError(f"trainer {name!r} learns from one prepared folder or file; got {len(inputs)} inputs")
        corpus = inputs[0]
    try:
        if cli["counts_only"]:
            counts = trainer.count(corpus, progress=cli["progress"])
            counts.save(output)
            click.echo(f"{name}: counted {len(inputs)} input(s) in {time.perf_counter() - start:.1f}s -> {output}", err=True)
            return
        if cli["from_counts"]:
            if getattr(cls, "needs_corpus_after_counting", False):
                raise click.UsageError(f"trainer {name!r} reads the corpus again after counting; train it from texts")
            from corpuskit.files import expand_inputs

            merged = Counts.merge_all(counts_class.load(path) for path in expand_inputs(inputs))
            model = trainer.train_from_counts(merged)
        elif cli["workers"] > 1 and counts_class is not None:
            model = _train_counting_in_units(trainer, inputs, corpus, cli["workers"], cli["text_field"])
        else:
            accepts_progress = "progress" in inspect.signature(trainer.train).parameters
            model = trainer.train(corpus, progress=cli["progress"]) if accepts_progress else trainer.train(corpus)
    except (CorpusError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    model.save(output)
    click.echo(f"{name}: trained in {time.perf_counter() - start:.1f}s -> {output}", err=True)


def _train_counting_in_units(trainer: Any, inputs: list[str], corpus: "Texts", workers: int, text_field: str) -> Any:
    """Count each input file as a unit on a local pool, merge in a tree, train from the sum."""
    import tempfile

    from corpuskit.count_units import count_in_units
    from corpuskit.executors import build_executor

    with tempfile.TemporaryDirectory(prefix="corpuskit-counts-") as work, build_executor("local", workers=workers) as executor:
        counts = count_in_units(trainer, inputs, executor, work, text_field=text_field)
    return trainer.train_from_counts(counts, corpus if trainer.needs_corpus_after_counting else None)


class Texts:
    """The texts of some inputs, re-readable: each iteration reads the files again (trainers may pass twice)."""

    def __init__(self, inputs: list[str], text_field: str) -> None:
        self.inputs, self.text_field = inputs, text_field

    def __iter__(self) -> Any:
        from corpuskit.readers import iter_texts

        return iter_texts(self.inputs, text_field=self.text_field)


def option_help(config_class: type) -> dict[str, str]:
    """Each field's help: `metadata["help"]`, else a `name: text` line of the class docstring."""
    helps: dict[str, str] = {}
    doc = inspect.getdoc(config_class) or ""
    if doc.startswith(f"{config_class.__name__}("):  # dataclass's generated signature, not a docstring
        doc = ""
    for line in doc.splitlines():
        match = re.match(r"\s*(\w+):\s+(.+)", line)
        if match:
            helps.setdefault(match.group(1), match.group(2).strip())
    for f in dataclasses.fields(config_class):
        if "help" in f.metadata:
            helps[f.name] = str(f.metadata["help"])
    return helps


def _option(f: dataclasses.Field, hint: Any, help_text: str) -> click.Option:
    flag = "--" + f.name.replace("_", "-")
    default = f.default if f.default is not dataclasses.MISSING else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
    shown = _show(default)
    members, optional = _members(hint)
    is_list = len(members) == 1 and (members[0] is list or typing.get_origin(members[0]) is list)
    if is_list:
        help_text = f"{help_text} (repeatable or comma-separated)".strip()
    help_text = f"{help_text}  [default: {shown}]".strip()
    if members == [bool]:
        return click.Option([f"{flag}/--no-{flag[2:]}"], default=None, help=help_text)
    if is_list:
        item = (typing.get_args(members[0]) or (str,))[0]
        return click.Option([flag], multiple=True, default=None, type=str, metavar=_name(item).upper(), callback=_list_callback(item), help=help_text)
    return click.Option([flag], default=None, type=ValueType(members, optional), help=help_text)


def _members(hint: Any) -> tuple[list[Any], bool]:
    """The non-None members of a (possibly optional) hint, and whether None is allowed."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = list(typing.get_args(hint))
        optional = type(None) in args
        return [a for a in args if a is not type(None)] or [Any], optional
    return [hint], False


def _list_callback(item: Any) -> Any:
    value_type = ValueType([item], False)

    def convert(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Any] | None:
        if not values:
            return None
        return [value_type.convert(part, param, ctx) for value in values for part in value.split(",") if part]

    return convert


class ValueType(click.ParamType):
    """A command-line string converted to the first member of a hint it fits (`none` for None)."""

    def __init__(self, members: list[Any], optional: bool) -> None:
        self.members, self.optional = members, optional
        self.name = " | ".join(_name(m) for m in members) + (" | none" if optional else "")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        if self.optional and value.lower() == "none":
            return None
        for member in self.members:
            ok, converted = _convert(value, member)
            if ok:
                return converted
        self.fail(f"{value!r} is not {self.name}", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        literals = [str(v) for m in self.members if typing.get_origin(m) is Literal for v in typing.get_args(m)]
        if literals and len(literals) == sum(len(typing.get_args(m)) if typing.get_origin(m) is Literal else 1 for m in self.members):
            return "[" + "|".join(literals + (["none"] if self.optional else [])) + "]"
        return self.name.upper().replace(" | ", "|")


def _convert(value: str, member: Any) -> tuple[bool, Any]:
    if typing.get_origin(member) is Literal:
        for choice in typing.get_args(member):
            if str(choice) == value:
                return True, choice
        return False, None
    if member is bool:
        lowered = value.lower()
        return (lowered in ("true", "false", "1", "0", "yes", "no")), lowered in ("true", "1", "yes")
    for kind in (int, float):
        if member is kind:
            try:
                return True, kind(value)
            except ValueError:
                return False, None
    if member is str:
        return True, value
    try:
        return True, json.loads(value)  # dicts and other structured options: JSON, checked by the trainer
    except json.JSONDecodeError:
        return False, None


def _name(member: Any) -> str:
    if typing.get_origin(member) is Literal:
        return "|".join(str(v) for v in typing.get_args(member))
    return getattr(member, "__name__", str(member)).lower()


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(map(str, value)) or "(empty)"
    return str(value)
