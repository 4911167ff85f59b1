"""Parquet reader (pyarrow), batch by batch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from corpuskit.document import Document, Rejected
from corpuskit.readers.base import Reader


class ParquetReader(Reader):
    """Reads `text_field` (and `id_field` if present) in batches of `batch_size` rows.

    A `metadata` column holding JSON text (what our Parquet writer stores) is parsed back.
    Memory: one batch. A file that is not Parquet, or a missing text column, is one Rejected.
    """

    name = "parquet"
    suffixes = (".parquet",)

    def __init__(self, text_field: str = "text", id_field: str = "id", batch_size: int = 1024) -> None:
        self.text_field = text_field
        self.id_field = id_field
        self.batch_size = batch_size

    def read(self, path: str) -> Iterator[Document | Rejected]:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
            yield Rejected(path, "not_parquet", f"{type(exc).__name__}: {exc}")
            return
        names = parquet.schema_arrow.names
        if self.text_field not in names:
            yield Rejected(path, "missing_text_field", f"no column {self.text_field!r}; columns: {', '.join(names)}")
            return
        stem = Path(path).name
        columns = [c for c in (self.text_field, self.id_field, "metadata") if c in names]
        row = 0
        try:
            for batch in parquet.iter_batches(batch_size=self.batch_size, columns=columns):
                data = batch.to_pydict()
                texts = data[self.text_field]
                ids = data.get(self.id_field, [None] * len(texts))
                metas = data.get("metadata", [None] * len(texts))
                for text, doc_id, meta in zip(texts, ids, metas):
                    row += 1
                    where = f"{path}#row{row}"
                    if not isinstance(text, str):
                        yield Rejected(where, "text_not_a_string", f"{self.text_field!r} is {type(text).__name__}")
                        continue
                    metadata = _metadata(meta)
                    metadata.setdefault("location", where)
                    yield Document(id=str(doc_id) if doc_id is not None else f"{stem}#row{row}", text=text, metadata=metadata)
        except Exception as exc:  # noqa: BLE001 - a corrupt page surfaces mid-iteration
            yield Rejected(f"{path}#row{row + 1}", "truncated_or_corrupt_file", f"{type(exc).__name__}: {exc}")


def _metadata(value: object) -> dict:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {"metadata": value}
        return parsed if isinstance(parsed, dict) else {"metadata": parsed}
    return {}
