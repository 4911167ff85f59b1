"""Pipeline steps: small objects that take one document and return it (maybe changed) or a Drop.

A step's parameters are its `__init__` keyword arguments; their type hints are the schema the
pipeline config is validated against before any work starts. Three kinds:

- `Step`: `process(doc) -> Document | Drop` (transforms: normalisation, PII redaction).
- `Filter`: writes only `drop_reason(doc) -> str | None`.
- `GlobalStep`: must see every document before deciding any (deduplication), as map → reduce:
  a *map* unit per input shard writes what the step needs to know about that shard's documents
  into files; *reduce* rounds of independent tasks read those files (a round reads the rounds
  before it) and end with state partitioned by shard; then every shard's documents go through
  `process` in a worker that loaded only its own shard's state. Every unit is an executor unit,
  so all of it runs in parallel and nothing per document passes through the driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from corpuskit.document import CorpusError, Document, Drop


class StepStateError(CorpusError):
    """A step's loaded state does not fit the documents it is given: the run itself is
    inconsistent, so this stops the run instead of being counted against one document."""


class Step(ABC):
    """Base class of every pipeline step. Subclasses set `name` and implement `process`."""

    name: ClassVar[str] = "step"

    @abstractmethod
    def process(self, doc: Document) -> Document | Drop:
        """See the module docstring."""

    def count(self, key: str, n: int = 1) -> None:
        """Add to a named counter reported in the run summary (e.g. PII matches per kind)."""
        counters = self.__dict__.setdefault("_counters", Counter())
        counters[key] += n

    def counters(self) -> dict[str, int]:
        """Counters gathered since the step was built (merged across workers by the runner)."""
        return dict(self.__dict__.get("_counters", {}))


class Filter(Step):
    """A step that keeps or drops documents unchanged. Implement `drop_reason`."""

    @abstractmethod
    def drop_reason(self, doc: Document) -> str | None:
        """The reason to drop `doc` (a short snake_case label), or None to keep it."""

    def process(self, doc: Document) -> Document | Drop:
        reason = self.drop_reason(doc)
        return doc if reason is None else Drop(reason)


@dataclass(frozen=True)
class ReduceTask:
    """One reduce unit of a global step: `name` is unique within the step (it names the task's
    output folder and marker), `kind` says which of the step's reduces to run, `params` is
    JSON-able (e.g. {"band": 3, "part": 0})."""

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GlobalWork:
    """Where one global step's units read and write, inside one pipeline run.

    Shard `s`'s map output is `map_dir(s)`; reduce task `t`'s output is `task_dir(t)`. A unit
    writes into a fresh folder that is renamed into place when complete, so a folder that
    exists is whole.
    """

    root: Path
    n_shards: int

    def map_dir(self, shard: int) -> Path:
        return self.root / "map" / f"{shard:05d}"

    def task_dir(self, name: str) -> Path:
        return self.root / "reduce" / name


class GlobalStep(Step):
    """A step that decides from the whole corpus; see the module docstring for the protocol.

    The documents a step's `process` sees in a shard are exactly, and in the same order, the
    documents its `map` saw for that shard, so state may refer to documents by position.
    Files are written by the step itself, as npy/npz or JSON (never pickle).
    """

    @abstractmethod
    def map(self, docs: Iterable[Document], out: Path) -> None:
        """Write what the reduce needs about these documents (one shard, in order) into `out`."""

    @abstractmethod
    def reduce_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        """The reduce tasks, in rounds; tasks of one round are independent of each other.

        Called after every map unit finished (the tasks may depend on what the maps wrote).
        """

    @abstractmethod
    def reduce(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        """Run one reduce task, writing its output into `out`; return counters for the summary."""

    @abstractmethod
    def load_shard_state(self, work: GlobalWork, shard: int) -> None:
        """Load the decisions for shard `shard` before `process` sees its documents."""

    def fit(self, shards: Iterable[Iterable[Document]], directory: Path) -> None:
        """Run map and every reduce round here, one unit after another (for use outside a
        pipeline and in tests; the pipeline runs the same units through its executor). Then
        `process` expects the documents of the first shard; `load_shard_state` picks another."""
        from corpuskit.files import atomic_dir

        shards = list(shards)
        work = GlobalWork(Path(directory), len(shards))
        for shard, docs in enumerate(shards):
            with atomic_dir(work.map_dir(shard)) as out:
                self.map(docs, out)
        for tasks in self.reduce_rounds(work):
            for task in tasks:
                with atomic_dir(work.task_dir(task.name)) as out:
                    self.count_all(self.reduce(task, work, out))
        self.load_shard_state(work, 0)

    def count_all(self, counters: dict[str, int]) -> None:
        for key, n in counters.items():
            self.count(key, n)
