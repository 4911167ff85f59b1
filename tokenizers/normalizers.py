"""Text normalizers (NFC/NFKC, lowercase, accent stripping, BERT cleaning) and their HF JSON form.

A normalizer is a small object with `normalize(text) -> str`, `to_hf() -> dict` and a builder
`normalizer_from_hf(dict)`. Each one reproduces the Hugging Face `tokenizers` component of the same
name so that ids agree when HF loads our files and when we load theirs.
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import regex

from corpuskit.tokenizers import hf_unicode


class Normalizer(ABC):
    """Maps a string to its normalized form (one job; compose with `Sequence`)."""

    @abstractmethod
    def normalize(self, text: str) -> str:
        """Return the normalized text."""

    @abstractmethod
    def to_hf(self) -> dict[str, Any]:
        """The HF tokenizer.json `normalizer` object."""


class Unicode(Normalizer):
    """NFC, NFD, NFKC or NFKD."""

    def __init__(self, form: str = "NFC") -> None:
        if form not in ("NFC", "NFD", "NFKC", "NFKD"):
            raise ValueError(f"unknown unicode normal form {form!r}")
        self.form = form

    def normalize(self, text: str) -> str:
        return unicodedata.normalize(self.form, text)

    def to_hf(self) -> dict[str, Any]:
        return {"type": self.form}


def lowercase_chars(text: str) -> str:
    """Lowercase character by character (no final-sigma rule), as HF's Lowercase does; the
    few characters whose lowercase Python's Unicode version lacks get the Rust library's."""
    lowered = text.lower()
    if "Σ" in text:
        lowered = "".join(ch.lower() for ch in text)
    if not text.isascii() and _LOWER_FIX_RE.search(lowered):
        lowered = lowered.translate(hf_unicode.LOWER)
    return lowered


_LOWER_FIX_RE = regex.compile("[" + "".join(f"\\U{cp:08x}" for cp in hf_unicode.LOWER) + "]")


class Lowercase(Normalizer):
    def normalize(self, text: str) -> str:
        return lowercase_chars(text)

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Lowercase"}


class StripAccents(Normalizer):
    """Remove combining marks (apply after NFD to strip accents from letters)."""

    def normalize(self, text: str) -> str:
        return text if text.isascii() else text.translate(_MARKS)

    def to_hf(self) -> dict[str, Any]:
        return {"type": "StripAccents"}


class _CharTable(dict):
    """A str.translate table that decides each code point once, on first sight (C-speed afterwards)."""

    def __init__(self, decide: Callable[[str], str | None]) -> None:
        super().__init__()
        self.decide = decide

    def __missing__(self, cp: int) -> str | None:
        value = self[cp] = self.decide(chr(cp))
        return value


def _clean_char(ch: str) -> str | None:
    """BERT's clean_text for one character: HF's control characters go, whitespace becomes ' '."""
    if ch in "\t\n\r":
        return " "
    if ch == "\ufffd" or hf_unicode.contains(hf_unicode.CONTROL, ord(ch)) or unicodedata.category(ch) == "Cs":
        return None
    return " " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") else ch


def _hf_nonspacing(ch: str) -> bool:
    """A non-spacing mark by HF's table (what strip_accents removes after NFD)."""
    return hf_unicode.contains(hf_unicode.NONSPACING, ord(ch))


_ASCII_CLEAN = {c: _clean_char(chr(c)) for c in range(128)}
_MARKS = _CharTable(lambda ch: None if unicodedata.category(ch).startswith("M") else ch)
_NONSPACING = _CharTable(lambda ch: None if _hf_nonspacing(ch) else ch)
_CLEAN = _CharTable(_clean_char)
_CJK_PAD = _CharTable(lambda ch: f" {ch} " if _is_cjk(ord(ch)) else ch)
_CLEAN_CJK = _CharTable(lambda ch: None if _clean_char(ch) is None else (f" {ch} " if _is_cjk(ord(ch)) else _clean_char(ch)))


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B920 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class BertNormalizer(Normalizer):
    """BERT's cleaning: drop control characters, unify whitespace, space out CJK ideographs, then
    optionally strip accents and lowercase. `strip_accents=None` follows `lowercase`."""

    def __init__(self, clean_text: bool = True, handle_chinese_chars: bool = True, strip_accents: bool | None = None, lowercase: bool = True) -> None:
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = strip_accents
        self.lowercase = lowercase

    def normalize(self, text: str) -> str:
        if text.isascii():
            if self.clean_text:
                text = text.translate(_ASCII_CLEAN)
            return text.lower() if self.lowercase else text
        if self.clean_text and self.handle_chinese_chars:
            text = text.translate(_CLEAN_CJK)
        elif self.clean_text:
            text = text.translate(_CLEAN)
        elif self.handle_chinese_chars:
            text = text.translate(_CJK_PAD)
        strip = self.strip_accents if self.strip_accents is not None else self.lowercase
        if strip:
            text = unicodedata.normalize("NFD", text).translate(_NONSPACING)
        if self.lowercase:
            text = lowercase_chars(text)
        return text

    def normalize_reference(self, text: str) -> str:
        """Character-by-character version of `normalize` (the fast one must agree with it)."""
        if self.clean_text:
            out = []
            for ch in text:
                if ch in "\t\n\r":
                    out.append(" ")
                    continue
                if ch == "\ufffd" or unicodedata.category(ch) == "Cs" or hf_unicode.contains(hf_unicode.CONTROL, ord(ch)):
                    continue
                out.append(" " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") else ch)
            text = "".join(out)
        if self.handle_chinese_chars:
            text = "".join(f" {ch} " if _is_cjk(ord(ch)) else ch for ch in text)
        strip = self.strip_accents if self.strip_accents is not None else self.lowercase
        if strip:
            text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not hf_unicode.contains(hf_unicode.NONSPACING, ord(ch)))
        if self.lowercase:
            text = lowercase_chars(text)
        return text

    def to_hf(self) -> dict[str, Any]:
        return {
            "type": "BertNormalizer",
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "strip_accents": self.strip_accents,
            "lowercase": self.lowercase,
        }


class Replace(Normalizer):
    """Replace every occurrence of a literal string."""

    def __init__(self, pattern: str, content: str) -> None:
        self.pattern = pattern
        self.content = content

    def normalize(self, text: str) -> str:
        return text.replace(self.pattern, self.content)

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Replace", "pattern": {"String": self.pattern}, "content": self.content}


class Prepend(Normalizer):
    """Prefix non-empty text with a string (Llama-style '▁')."""

    def __init__(self, prepend: str) -> None:
        self.prepend = prepend

    def normalize(self, text: str) -> str:
        return self.prepend + text if text else text

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Prepend", "prepend": self.prepend}


class Strip(Normalizer):
    def __init__(self, left: bool = True, right: bool = True) -> None:
        self.left = left
        self.right = right

    def normalize(self, text: str) -> str:
        if self.left:
            text = text.lstrip()
        if self.right:
            text = text.rstrip()
        return text

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Strip", "strip_left": self.left, "strip_right": self.right}


class Sequence(Normalizer):
    def __init__(self, normalizers: list[Normalizer]) -> None:
        self.normalizers = normalizers

    def normalize(self, text: str) -> str:
        for normalizer in self.normalizers:
            text = normalizer.normalize(text)
        return text

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Sequence", "normalizers": [n.to_hf() for n in self.normalizers]}


def build_normalizer(unicode_form: str | None = None, lowercase: bool = False, strip_accents: bool = False) -> Normalizer | None:
    """The normalizer for the common trainer options; None when every option is off."""
    parts: list[Normalizer] = []
    if strip_accents:
        parts += [Unicode("NFD"), StripAccents()]
        if unicode_form in ("NFC", "NFKC"):
            parts.append(Unicode(unicode_form))
    elif unicode_form:
        parts.append(Unicode(unicode_form))
    if lowercase:
        parts.append(Lowercase())
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Sequence(parts)


def normalizer_from_hf(obj: dict[str, Any] | None, where: str = "normalizer") -> Normalizer | None:
    """Build a normalizer from its HF JSON object; unknown types are a ValueError naming `where`."""
    if obj is None:
        return None
    kind = obj.get("type")
    if kind in ("NFC", "NFD", "NFKC", "NFKD"):
        return Unicode(kind)
    if kind == "Lowercase":
        return Lowercase()
    if kind == "StripAccents":
        return StripAccents()
    if kind == "BertNormalizer":
        return BertNormalizer(obj.get("clean_text", True), obj.get("handle_chinese_chars", True), obj.get("strip_accents"), obj.get("lowercase", True))
    if kind == "Replace":
        pattern = obj.get("pattern", {})
        if "String" not in pattern:
            raise ValueError(f"{where}: Replace with a regex pattern is not supported")
        return Replace(pattern["String"], obj.get("content", ""))
    if kind == "Prepend":
        return Prepend(obj["prepend"])
    if kind == "Strip":
        return Strip(obj.get("strip_left", True), obj.get("strip_right", True))
    if kind == "Sequence":
        return Sequence([normalizer_from_hf(o, where) for o in obj["normalizers"]])  # type: ignore[misc]
    raise ValueError(f"{where}: unsupported normalizer type {kind!r}")
