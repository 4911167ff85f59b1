"""JSON Lines reader (.jsonl/.json, optionally .gz/.zst/.bz2/.xz) with choosable text and id fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from corpuskit.document import Document, Rejected
from corpuskit.readers.base import Reader
from corpuskit.readers.lines import numbered_lines


class JsonlReader(Reader):
    """One JSON object per line. `text_field` and `id_field` may be dotted paths ('meta.url').

    Other top-level fields go to metadata (a corpuskit output's own `metadata` object is merged
    back). A missing id becomes `<file name>:<line>`. Malformed lines, non-objects and records
    without a string text field are Rejected with file and line. Memory: one line.
    """

    name = "jsonl"
    suffixes = (".jsonl", ".json", ".ndjson")

    def __init__(self, text_field: str = "text", id_field: str = "id") -> None:
        self.text_field = text_field
        self.id_field = id_field

    def read(self, path: str) -> Iterator[Document | Rejected]:
        stem = Path(path).name
        for item in numbered_lines(path):
            if isinstance(item, Rejected):
                yield item
                return
            lineno, line = item
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Rejected(where, "malformed_json", str(exc))
                continue
            if not isinstance(record, dict):
                yield Rejected(where, "not_a_json_object", f"expected a JSON object, got {type(record).__name__}")
                continue
            text = _get(record, self.text_field)
            if text is None:
                yield Rejected(where, "missing_text_field", f"no field {self.text_field!r}")
                continue
            if not isinstance(text, str):
                yield Rejected(where, "text_not_a_string", f"field {self.text_field!r} is {type(text).__name__}")
                continue
            doc_id = _get(record, self.id_field)
            metadata = {k: v for k, v in record.items() if k not in (self.text_field, self.id_field, "metadata")}
            if isinstance(record.get("metadata"), dict):
                metadata.update(record["metadata"])
            metadata.setdefault("location", where)
            yield Document(id=str(doc_id) if doc_id is not None else f"{stem}:{lineno}", text=text, metadata=metadata)


def _get(record: dict, dotted: str) -> object:
    value: object = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
