"""GPT-2's reversible byte <-> printable-character table, used by byte-level BPE.

Every byte 0..255 maps to one visible Unicode character, so a byte string becomes a str whose
characters are BPE symbols; decoding maps them back, so no text is ever unknown.
"""

from __future__ import annotations


def _build_byte_to_char() -> dict[int, str]:
    """Printable Latin-1 bytes map to themselves; the other 68 go to 256, 257, ... in order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR: dict[int, str] = _build_byte_to_char()
CHAR_TO_BYTE: dict[str, int] = {c: b for b, c in BYTE_TO_CHAR.items()}
_LATIN1_TO_CHARS = str.maketrans({chr(b): c for b, c in BYTE_TO_CHAR.items()})


def alphabet() -> list[str]:
    """The 256 byte characters, in codepoint order (the initial byte-level vocabulary)."""
    return sorted(BYTE_TO_CHAR.values())


def bytes_to_chars(data: bytes) -> str:
    """b'hi \\xe4' -> 'hiĠä' style: one character per byte."""
    return data.decode("latin-1").translate(_LATIN1_TO_CHARS)


def chars_to_bytes(text: str) -> bytes | None:
    """Inverse of bytes_to_chars; None when `text` holds a character outside the table."""
    out = bytearray()
    for ch in text:
        b = CHAR_TO_BYTE.get(ch)
        if b is None:
            return None
        out.append(b)
    return bytes(out)
