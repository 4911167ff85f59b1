"""The executor contract: run independent, idempotent units with bounded work in flight.

A `Unit` is a module-level function and its (picklable) arguments. Units are idempotent: each
writes its outputs atomically and its own completion marker last, so running a unit twice —
after a crash, on a retry, on another machine — gives the same files. That is what lets an
executor retry a unit whose worker died, and lets `--resume` skip finished ones.

An executor retries a unit only for infrastructure failures (its worker process died, a lost
connection); an exception raised by the unit's own code is an answer, not an accident, and is
re-raised unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from corpuskit.document import CorpusError

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Unit:
    """One piece of work: `function(*args, progress=report)`.

    `key` is unique within one `run` call and names the unit in errors and logs. `function`
    must be importable by name (a module-level function), so a unit can travel to another
    process or machine; `progress(n)` reports n more documents done.
    """

    key: str
    function: Callable[..., Any]
    args: tuple[Any, ...] = field(default_factory=tuple)

    def __call__(self, progress: Progress | None = None) -> Any:
        return self.function(*self.args, progress=progress or _ignore)


def _ignore(n: int) -> None:
    """A progress callback that drops the report."""


class UnitFailed(CorpusError):
    """A unit that could not be run to the end: its worker kept dying past the retry budget."""


class UnitLoadError(CorpusError):
    """A unit whose function cannot be imported where it is to run (not retried)."""


class Executor(ABC):
    """Runs units. Subclasses take their parameters as typed keyword arguments of `__init__`
    (the config's `executor:` block is validated against them like a step's) and set `name`.

    `__init__` only checks parameters (configs are validated by building the executor); workers
    and connections start on first use and live until `close` (or the end of a `with` block),
    so a pipeline's stages share them.
    """

    name: ClassVar[str] = "executor"

    @abstractmethod
    def run(self, units: Sequence[Unit], progress: Progress | None = None) -> list[Any]:
        """Run every unit; return their results in the order of `units`.

        At most a bounded number of units are in flight at once. The first unit whose own code
        raises stops the run: its exception propagates, units not started are not started.
        """

    def close(self) -> None:
        """Release workers and connections (the base holds none)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_executor(kind: str = "local", **params: Any) -> Executor:
    """The executor plugin `kind` from the registry, built with `params` (checked against its
    `__init__`): `build_executor("local", workers=4)`."""
    from corpuskit import registry
    from corpuskit.pipeline.params import check_params

    cls = registry.load("executors", kind)
    return cls(**check_params(cls, params, f"executor {kind!r}"))
