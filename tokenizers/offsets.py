"""Character offsets: map token spans back through pre-tokenization and normalization.

`normalize_aligned` normalizes a string in chunks (a base character and its combining marks) so
that every normalized character knows which original characters it came from; when chunked and
whole-string normalization disagree, characters are aligned proportionally (documented
approximation). `piece_spans` turns a word's token lengths into spans of the word's text.
"""

from __future__ import annotations

import unicodedata

from corpuskit.tokenizers.normalizers import Normalizer


def normalize_aligned(normalizer: Normalizer | None, text: str) -> tuple[str, list[int], list[int]]:
    """Normalized text, and for each of its characters the [start, end) original span."""
    if normalizer is None:
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    whole = normalizer.normalize(text)
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.category(text[j]).startswith("M"):
            j += 1
        chunk = normalizer.normalize(text[i:j])
        parts.append(chunk)
        starts.extend([i] * len(chunk))
        ends.extend([j] * len(chunk))
        i = j
    if "".join(parts) == whole:
        return whole, starts, ends
    m = max(len(whole), 1)
    starts = [min(k * n // m, n) for k in range(len(whole))]
    ends = [max(min((k + 1) * n // m, n), s) for k, s in enumerate(starts)]
    return whole, starts, ends


def piece_spans(piece: str, text: str, lengths: list[int], unit: str) -> list[tuple[int, int]]:
    """Spans in `text` of tokens covering `lengths` characters of `piece` each (see PreTokenizer.unit)."""
    spans = []
    if unit == "byte":
        data_len = [len(ch.encode("utf-8")) for ch in text]
        char_of_byte = [c for c, k in enumerate(data_len) for _ in range(k)]
        shift = len(piece) - len(char_of_byte)
        pos = 0
        for k in lengths:
            a, b = max(pos - shift, 0), max(pos + k - shift, 0)
            pos += k
            if b <= a:
                spans.append((char_of_byte[a] if a < len(char_of_byte) else len(text),) * 2)
            else:
                spans.append((char_of_byte[a], char_of_byte[b - 1] + 1))
        return spans
    shift = len(piece) - len(text) if unit == "metaspace" else 0
    pos = 0
    for k in lengths:
        spans.append((max(pos - shift, 0), max(pos + k - shift, 0)))
        pos += k
    return spans
