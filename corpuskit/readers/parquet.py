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
    Memory: one batch. A file that is not Parquet, or a missing text column, is one Rejected; a
    corrupt row group costs only its own unread rows, each an errored `corrupt_row_group` naming
    the file, row and row group (the other groups are still read).
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
        for group in range(parquet.num_row_groups):
            group_rows = parquet.metadata.row_group(group).num_rows
            first = row
            try:
                for batch in parquet.iter_batches(batch_size=self.batch_size, columns=columns, row_groups=[group]):
                    data = batch.to_pydict()
                    texts = data[self.text_field]
                    ids = data.get(self.id_field, [None] * len(texts))
                    metas = data.get("metadata", [None] * len(texts))
                    for text, doc_id, meta in zip(texts, ids, metas):
                        row += 1
                        yield self._document(path, stem, row, text, doc_id, meta)
            except Exception as exc:  # noqa: BLE001 - a corrupt page surfaces mid-iteration
                # The other row groups are independent: lose only this one's unread rows, each counted.
                detail = f"row group {group} (rows {first + 1}-{first + group_rows}) is unreadable: {type(exc).__name__}: {exc}"
                for lost in range(row + 1, first + group_rows + 1):
                    yield Rejected(f"{path}#row{lost}", "corrupt_row_group", detail)
                row = first + group_rows

    def _document(self, path: str, stem: str, row: int, text: object, doc_id: object, meta: object) -> Document | Rejected:
        where = f"{path}#row{row}"
        if not isinstance(text, str):
            return Rejected(where, "text_not_a_string", f"{self.text_field!r} is {type(text).__name__}")
        metadata = _metadata(meta)
        metadata.setdefault("location", where)
        return Document(id=str(doc_id) if doc_id is not None else f"{stem}#row{row}", text=text, metadata=metadata)


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
