"""Pipeline steps: small objects that take one document and return it (maybe changed) or a Drop.

A step's parameters are its `__init__` keyword arguments; their type hints are the schema the
pipeline config is validated against before any work starts. Three kinds:

- `Step`: `process(doc) -> Document | Drop` (transforms: normalisation, PII redaction).
- `Filter`: writes only `drop_reason(doc) -> str | None`.
- `GlobalStep`: must see every document before deciding any (deduplication). The runner calls
  `fit(docs)` once over all documents that reach it, in a deterministic order, persists the
  result with `save_state`, and then runs `process` in every worker after `load_state`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from corpuskit.document import Document, Drop


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


class GlobalStep(Step):
    """A step that decides from the whole corpus (dedup). See the module docstring for the protocol.

    State files are written by the step itself, atomically, as JSON or npz (never pickle).
    """

    @abstractmethod
    def fit(self, docs: Iterable[Document]) -> None:
        """See the module docstring."""

    @abstractmethod
    def save_state(self, directory: Path) -> None:
        """See the module docstring."""

    @abstractmethod
    def load_state(self, directory: Path) -> None:
        """See the module docstring."""
