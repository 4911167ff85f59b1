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
    except Exception:  # noqa: BLE001 - each codec has its own errors
        return False  # a broken compressed stream is reported while reading, with its line
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return controls / len(head) > 0.1


def numbered_lines(path: str) -> Iterator[tuple[int, str] | Rejected]:
    """Yield (line number, line without its newline); a binary file or a broken stream yields a Rejected.

    A cut gzip/zstd/bz2/xz stream keeps the complete lines read before the break (a partial
    last line is dropped, never passed on as a document) and ends with one errored Rejected,
    `truncated` (the stream ended early) or `corrupt_file` (bad compressed data), naming the
    line where it broke and the last complete one.
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
        yield broken_stream(f"{path}:{lineno + 1}", exc, f"line {lineno}" if lineno else "none")


def broken_stream(where: str, exc: BaseException, last_good: str) -> Rejected:
    """The Rejected for a stream that broke while reading: `truncated` for an early end (EOFError),
    `corrupt_file` otherwise; `last_good` names the last complete line or record."""
    reason = "truncated" if isinstance(exc, EOFError) else "corrupt_file"
    return Rejected(where, reason, f"last complete record: {last_good}; {type(exc).__name__}: {exc}")
