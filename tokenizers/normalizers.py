"""Text normalizers (NFC/NFKC, lowercase, accent stripping, BERT cleaning) and their HF JSON form.

A normalizer is a small object with `normalize(text) -> str`, `to_hf() -> dict` and a builder
`normalizer_from_hf(dict)`. Each one reproduces the Hugging Face `tokenizers` component of the same
name so that ids agree when HF loads our files and when we load theirs.
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from typing import Any


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
    """Lowercase character by character (no final-sigma rule), as HF's Lowercase does."""
    lowered = text.lower()
    if "Σ" in text:
        lowered = "".join(ch.lower() for ch in text)
    return lowered


class Lowercase(Normalizer):
    def normalize(self, text: str) -> str:
        return lowercase_chars(text)

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Lowercase"}


class StripAccents(Normalizer):
    """Remove combining marks (apply after NFD to strip accents from letters)."""

    def normalize(self, text: str) -> str:
        return text if text.isascii() else _MARKS.sub("", text)

    def to_hf(self) -> dict[str, Any]:
        return {"type": "StripAccents"}


def _category_class(categories: tuple[str, ...], extra: str = "") -> str:
    """A regex character class of every code point whose category (per unicodedata) is listed."""
    ranges = []
    start = None
    for cp in range(0x110001):
        inside = cp < 0x110000 and (unicodedata.category(chr(cp)) in categories or chr(cp) in extra)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append(f"\\U{start:08x}-\\U{cp - 1:08x}")
            start = None
    return "[" + "".join(ranges) + "]"


class _LazyRegex:
    """Compile a character-class regex on first use (building it scans all code points once)."""

    def __init__(self, categories: tuple[str, ...], extra: str = "") -> None:
        self.categories, self.extra = categories, extra
        self._compiled = None

    def sub(self, repl: str, text: str) -> str:
        if self._compiled is None:
            import re

            self._compiled = re.compile(_category_class(self.categories, self.extra))
        return self._compiled.sub(repl, text)


_ASCII_CLEAN = {c: None for c in range(32) if chr(c) not in "\t\n\r"}
_ASCII_CLEAN.update({ord("\t"): " ", ord("\n"): " ", ord("\r"): " ", 0x7F: None})
_CLEAN_DROP = _LazyRegex(("Cc", "Cf", "Co", "Cs"), "\x00\ufffd")
_CLEAN_SPACE = _LazyRegex(("Zs", "Zl", "Zp"))
_NONSPACING = _LazyRegex(("Mn",))
_MARKS = _LazyRegex(("Mn", "Mc", "Me"))


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


_CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


class _CjkRegex:
    _compiled = None

    def sub(self, repl: str, text: str) -> str:
        if self._compiled is None:
            import re

            type(self)._compiled = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in _CJK_RANGES) + "]")
        return self._compiled.sub(repl, text)  # type: ignore[union-attr]


_CJK = _CjkRegex()


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
        if self.clean_text:
            text = _CLEAN_DROP.sub("", text.translate(_ASCII_CLEAN))
            text = _CLEAN_SPACE.sub(" ", text)
        if self.handle_chinese_chars:
            text = _CJK.sub(r" \g<0> ", text)
        strip = self.strip_accents if self.strip_accents is not None else self.lowercase
        if strip:
            text = _NONSPACING.sub("", unicodedata.normalize("NFD", text))
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
                if ord(ch) in (0, 0xFFFD) or unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs"):
                    continue
                out.append(" " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") else ch)
            text = "".join(out)
        if self.handle_chinese_chars:
            text = "".join(f" {ch} " if _is_cjk(ord(ch)) else ch for ch in text)
        strip = self.strip_accents if self.strip_accents is not None else self.lowercase
        if strip:
            text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
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
