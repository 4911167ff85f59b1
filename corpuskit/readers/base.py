"""The Reader base class, format detection by file name, and corpus iteration helpers."""

from __future__ import annotations

import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from corpuskit import registry
from corpuskit.document import CorpusError, Document, Rejected
from corpuskit.files import expand_inputs, strip_compression

log = logging.getLogger(__name__)


class Reader(ABC):
    """Reads one input (a file, or a dataset name) into Documents.

    Subclasses set `name` and `suffixes` (file names they read, compression suffix removed) and
    implement `read`. Options are `__init__` keyword arguments with type hints, validated like
    step parameters. A reader never raises for a bad record: it yields `Rejected` naming the
    file and line or offset, and the caller decides (skip and count, or raise).
    """

    name: ClassVar[str] = "reader"
    suffixes: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def read(self, path: str) -> Iterator[Document | Rejected]:
        """Yield the documents of `path`, and a Rejected for each record that is not one."""

    def texts(self, path: str) -> Iterator[str | Rejected]:
        """Like `read`, but only the texts: what trainers consume. Readers that can skip
        building Documents (ids, metadata) override this for speed."""
        for item in self.read(path):
            yield item if isinstance(item, Rejected) else item.text


def reader_for(path: str | Path, options: dict[str, Any] | None = None) -> Reader:
    """Build the reader whose `suffixes` match `path` (longest suffix wins), with `options`.

    Only the options the reader accepts are passed on, so one option set (say `text_field`)
    can serve mixed inputs. A file no reader claims gets a `NoReader`, whose one record is an
    errored `no_reader` Rejected naming the file.
    """
    name = strip_compression(Path(path).name)
    best: tuple[int, Any] | None = None
    for plugin in registry.plugins("readers").values():
        try:
            cls = plugin.load()
        except registry.PluginError as exc:
            log.warning("%s", exc)
            continue
        for suffix in getattr(cls, "suffixes", ()):
            if name.endswith(suffix) and (best is None or len(suffix) > best[0]):
                best = (len(suffix), cls)
    if best is None:
        return NoReader()
    return build_reader(best[1], options or {}, strict=False)


class NoReader(Reader):
    """What `reader_for` gives a file no reader claims (a README.md in a WARC folder): it
    yields one errored `no_reader` Rejected, so the file is counted (or, under
    on_error='raise', stops the run naming it) like any other unreadable input."""

    name = "no_reader"

    def read(self, path: str) -> Iterator[Document | Rejected]:
        known = ", ".join(sorted({s for cls in _reader_classes() for s in getattr(cls, "suffixes", ())}))
        yield Rejected(str(path), "no_reader", f"no reader for this file name (known: {known}); pass a reader name explicitly")


def has_reader(path: str | Path) -> bool:
    """Whether some registered reader claims `path` by its name."""
    return not isinstance(reader_for(path), NoReader)


def _reader_classes() -> list[type]:
    classes = []
    for plugin in registry.plugins("readers").values():
        try:
            classes.append(plugin.load())
        except registry.PluginError:
            continue
    return classes


def build_reader(cls: type[Reader], options: dict[str, Any], strict: bool = True) -> Reader:
    """Instantiate a reader class; with strict=False, options it does not accept are ignored."""
    if not strict:
        accepted = inspect.signature(cls.__init__).parameters
        options = {k: v for k, v in options.items() if k in accepted}
    return cls(**options)


def read_corpus(
    inputs: str | list[str] | tuple[str, ...],
    reader: str | None = None,
    on_error: str = "raise",
    **options: Any,
) -> Iterator[Document]:
    """Stream the documents of files, globs, directories or pipeline output folders.

    `reader` names a reader plugin; by default each file's reader is chosen by its name.
    `on_error='raise'` stops at the first broken record with its location; 'skip' logs and
    goes on. Memory: one document (or one Parquet batch) at a time.
    """
    yield from _records(inputs, reader, on_error, options, texts_only=False)


def iter_texts(inputs: str | list[str] | tuple[str, ...], reader: str | None = None, on_error: str = "raise", **options: Any) -> Iterator[str]:
    """Stream only the texts of `read_corpus(inputs, ...)`: what trainers consume."""
    yield from _records(inputs, reader, on_error, options, texts_only=True)


def _records(inputs: Any, reader: str | None, on_error: str, options: dict[str, Any], texts_only: bool) -> Iterator[Any]:
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    fixed = build_reader(registry.load("readers", reader), options) if reader else None
    paths = [inputs] if isinstance(inputs, str) else list(inputs)
    if fixed is not None and not getattr(fixed, "suffixes", ()):
        files = [str(p) for p in paths]  # e.g. dataset names for the hf reader
    else:
        files = [str(p) for p in expand_inputs(paths)]
    for path in files:
        source = fixed or reader_for(path, options)
        for item in source.texts(path) if texts_only else source.read(path):
            if isinstance(item, Rejected):
                if item.errored and on_error == "raise":
                    raise CorpusError(item.message())
                log.info("skipped %s", item.message())
                continue
            yield item
