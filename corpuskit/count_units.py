"""Counting a corpus as executor units: each input file counted where a worker runs, merged in a tree.

`count_in_units(trainer, inputs, executor, work_dir)` plans one unit per input file (the trainer's
`count` over that file's texts, saved with `Counts.save`), then merge units that each merge up to
`fan_in` counts files, round after round, until one is left. `Counts.merge` is associative and
commutative to the byte, so the result — and a model trained from it — equals counting the
whole corpus in one process. Counts travel as files, never through the driver's memory until the
last one is loaded.

Memory: a count unit holds one file's counts; a merge unit holds `fan_in` counts and their sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corpuskit.executors import Executor, Unit
from corpuskit.files import expand_inputs
from corpuskit.trainer import Counts, Trainer


def count_in_units(
    trainer: Trainer,
    inputs: Sequence[str],
    executor: Executor,
    work_dir: str | Path,
    text_field: str = "text",
    fan_in: int = 8,
) -> Counts:
    """Count every input file as its own unit and merge the counts in a tree of units."""
    if trainer.counts_class is None:
        raise TypeError(f"trainer {trainer.name!r} learns from prepared shards and has no counting stage")
    if fan_in < 2:
        raise ValueError(f"fan_in must be at least 2, got {fan_in}")
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    files = [str(path) for path in expand_inputs(list(inputs))]
    cls, config = type(trainer), trainer.config
    level = [work / f"counts-0-{i:05d}.npz" for i in range(len(files))]
    executor.run([Unit(f"count-{i:05d}", count_file, (cls, config, source, text_field, str(out))) for i, (source, out) in enumerate(zip(files, level))])
    depth = 0
    while len(level) > 1:
        depth += 1
        groups = [level[i : i + fan_in] for i in range(0, len(level), fan_in)]
        level = [work / f"counts-{depth}-{i:05d}.npz" for i in range(len(groups))]
        executor.run([
            Unit(f"merge-{depth}-{i:05d}", merge_files, (cls.counts_class, [str(p) for p in group], str(out)))
            for i, (group, out) in enumerate(zip(groups, level))
        ])
    return cls.counts_class.load(level[0])


def count_file(cls: type[Trainer], config: Any, source: str, text_field: str, out: str, progress: Any) -> str:
    """A unit: count one input file with a trainer built from `config`; save the counts to `out`."""
    from corpuskit.readers import iter_texts

    counts = cls(config).count(iter_texts([source], text_field=text_field))
    counts.save(out)
    return out


def merge_files(counts_class: type[Counts], paths: list[str], out: str, progress: Any) -> str:
    """A unit: merge counts files (in the order given) into `out`."""
    counts_class.merge_all(counts_class.load(path) for path in paths).save(out)
    return out
