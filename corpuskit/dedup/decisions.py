"""Which documents a dedup step drops, keyed so that any worker can decide from the document alone.

`fit` sees documents in order and knows which to drop; `process` (in another process, on a
subset) sees one document at a time. The key joining them is a 128-bit BLAKE2b of (id, text):
ids alone may collide. Two records identical in id AND text share a key: the first one a
worker sees is kept, later ones are dropped ("keep_once"). Memory: O(duplicates).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

from corpuskit.document import CorpusError, Document, Drop
from corpuskit.files import write_json_atomic
from corpuskit.steps import GlobalStep


def document_key(doc_id: str, text: str) -> str:
    """Hex BLAKE2b-128 of id, NUL, text (UTF-8; lone surrogates kept as-is)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(doc_id.encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class DuplicateDecisions:
    """The drop list of a dedup step: key -> id of the kept representative."""

    format = "corpuskit.dedup_state/1"

    def __init__(self, drop: dict[str, str] | None = None, keep_once: set[str] | None = None) -> None:
        self.drop: dict[str, str] = drop or {}
        self.keep_once: set[str] = keep_once or set()
        self._seen_once: set[str] = set()

    def add_duplicate(self, key: str, duplicate_of: str, representative_key: str) -> None:
        """Mark the document with `key` as a duplicate of the kept document `duplicate_of`."""
        if key == representative_key:
            self.keep_once.add(key)
        else:
            self.drop[key] = duplicate_of

    def duplicate_of(self, doc: Document) -> str | None:
        """The id of the kept document `doc` duplicates, or None to keep `doc`."""
        key = document_key(doc.id, doc.text)
        if key in self.drop:
            return self.drop[key]
        if key in self.keep_once:
            if key in self._seen_once:
                return doc.id
            self._seen_once.add(key)
        return None

    def save(self, path: Path, step: str, params: dict[str, Any]) -> None:
        """Write the decisions and the parameters that produced them, atomically, as JSON."""
        write_json_atomic(
            path,
            {"format": self.format, "step": step, "params": params, "drop": self.drop, "keep_once": sorted(self.keep_once)},
        )

    @classmethod
    def load(cls, path: Path, step: str, params: dict[str, Any]) -> "DuplicateDecisions":
        """Read decisions saved by `save`; parameters that differ from `params` are an error."""
        try:
            state = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorpusError(f"{path}: no saved {step} state; run fit and save_state first") from None
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(state, dict) or state.get("format") != cls.format:
            raise CorpusError(f"{path}: expected a {cls.format} file")
        if state.get("params") != params:
            raise CorpusError(f"{path}: state was fitted with {state.get('params')}, this step has {params}; fit again")
        return cls(dict(state["drop"]), set(state["keep_once"]))


class DedupStep(GlobalStep):
    """A dedup step whose fit leaves `self.decisions`: saving, loading and dropping are shared.

    Subclasses set `name`, `drop_label`, implement `fit` and `params()` (the parameters stored
    with the state, so a state written under other parameters is refused).
    """

    drop_label: ClassVar[str] = "duplicate"
    decisions: DuplicateDecisions

    def params(self) -> dict[str, Any]:
        return {}

    def save_state(self, directory: Path) -> None:
        self.decisions.save(Path(directory) / f"{self.name}.json", self.name, self.params())

    def load_state(self, directory: Path) -> None:
        self.decisions = DuplicateDecisions.load(Path(directory) / f"{self.name}.json", self.name, self.params())

    def process(self, doc: Document) -> Document | Drop:
        duplicate_of = self.decisions.duplicate_of(doc)
        if duplicate_of is None:
            return doc
        doc.metadata["duplicate_of"] = duplicate_of
        return Drop(self.drop_label)
