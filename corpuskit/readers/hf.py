"""Hugging Face `datasets` reader, streaming (local files or hub names)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from corpuskit.document import Document, Rejected
from corpuskit.readers.base import Reader


class HFDatasetReader(Reader):
    """Streams `datasets.load_dataset(path, name, split=split, streaming=True, data_files=...)`.

    `path` is what the pipeline passes as the input: a hub dataset name (needs the network, or
    a warm HF cache with HF_DATASETS_OFFLINE=1) or a builder such as 'json'/'parquet'/'text'
    with `data_files`. No file-name detection: name this reader explicitly. Memory: one record
    plus the library's read buffer.
    """

    name = "hf"
    suffixes = ()

    def __init__(
        self,
        name: str | None = None,
        split: str = "train",
        data_files: list[str] | None = None,
        text_field: str = "text",
        id_field: str = "id",
    ) -> None:
        self.config_name = name
        self.split = split
        self.data_files = data_files
        self.text_field = text_field
        self.id_field = id_field

    def read(self, path: str) -> Iterator[Document | Rejected]:
        import datasets

        kwargs: dict[str, Any] = {"split": self.split, "streaming": True}
        if self.data_files:
            kwargs["data_files"] = self.data_files
        try:
            dataset = datasets.load_dataset(path, self.config_name, **kwargs)
        except Exception as exc:  # noqa: BLE001 - datasets raises many types (missing, offline, ...)
            yield Rejected(path, "dataset_unavailable", f"{type(exc).__name__}: {exc}")
            return
        for index, record in enumerate(dataset):
            where = f"{path}[{self.split}]#{index}"
            text = record.get(self.text_field)
            if not isinstance(text, str):
                reason = "missing_text_field" if text is None else "text_not_a_string"
                yield Rejected(where, reason, f"field {self.text_field!r}")
                continue
            doc_id = record.get(self.id_field)
            metadata = {k: v for k, v in record.items() if k not in (self.text_field, self.id_field) and _plain(v)}
            metadata["location"] = where
            yield Document(id=str(doc_id) if doc_id is not None else f"{path}#{index}", text=text, metadata=metadata)


def _plain(value: object) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))
