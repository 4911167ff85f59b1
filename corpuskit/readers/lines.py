"""Numbered lines of a (possibly compressed) file, with broken files turned into Rejected records."""

from __future__ import annotations

from collections.abc import Iterator

from corpuskit.document import Rejected
from corpuskit.files import open_binary, open_text

# Bytes that never occur in text: a NUL or most C0 controls in the first block mean "binary".
_BINARY_PROBE_BYTES = 8192
_TEXT_CONTROLS = {9, 10, 12, 13, 27}


def looks_binary(path: str) -> bool:
    """True when the first 8 KiB (after decompression) hold NUL bytes or mostly control bytes."""
    try:
        with open_binary(path) as handle:
            head = handle.read(_BINARY_PROBE_BYTES)
    except (OSError, EOFError):
        return False  # a broken compressed stream is reported while reading, with its line
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return controls / len(head) > 0.1


def numbered_lines(path: str) -> Iterator[tuple[int, str] | Rejected]:
    """Yield (line number, line without its newline); a binary file or a broken stream yields a Rejected.

    A truncated gzip/zstd/bz2 stream keeps the lines read before the break and ends with a
    Rejected naming the line where it broke, so no document is silently lost.
    """
    if looks_binary(path):
        yield Rejected(path, "binary_file", "NUL or control bytes in the first 8 KiB; not a text file")
        return
    lineno = 0
    try:
        with open_text(path) as handle:
            for lineno, line in enumerate(handle, 1):
                yield lineno, line.rstrip("\r\n")
    except Exception as exc:  # noqa: BLE001 - gzip/bz2/lzma/zstd each raise their own error types
        yield Rejected(f"{path}:{lineno + 1}", "truncated_or_corrupt_file", f"{type(exc).__name__}: {exc}")
