"""The document model: what flows from a reader through steps to a writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Document:
    """One text with a stable id and free-form metadata (url, lang, scores, ...)."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "metadata": self.metadata}


@dataclass(frozen=True, slots=True)
class Drop:
    """A step's verdict that a document leaves the pipeline, with the reason counted in the summary."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record a reader could not or would not turn into a document.

    `where` names the file and line, offset or record; `errored` separates broken input
    (a malformed JSON line, a truncated file) from input skipped on purpose (a redirect page,
    a non-HTML WARC record), so that input = kept + dropped + errored always holds.
    """

    where: str
    reason: str
    detail: str = ""
    errored: bool = True

    def message(self) -> str:
        return f"{self.where}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


class CorpusError(Exception):
    """Broken input or setup that cannot be skipped; the message names file and line or record."""
