"""Pre-tokenizers: split normalized text into the words a model tokenizes one at a time.

Each returns `split(text) -> list[str]` (fast path) and `split_offsets(text)` giving
`(piece, start, end)` where start/end index `text`. `unit` says how a piece's characters map back:
"char" (piece == text[start:end]), "byte" (one piece character per UTF-8 byte of
text[start:end]) or "metaspace" (spaces shown as '▁', maybe one '▁' prepended). Each mirrors the
Hugging Face `tokenizers` component of the same name, so ids agree across the two libraries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import regex

from corpuskit.tokenizers.bytelevel import bytes_to_chars
from corpuskit.tokenizers.hf_unicode import PUNCTUATION, regex_class

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT4_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

# BERT's split: runs of non-space non-punctuation, and each punctuation character alone, with
# HF's punctuation class (an older Unicode version than the regex module's \p{P}; see hf_unicode).
_HF_PUNCT = regex_class(PUNCTUATION)
_BERT_RE = regex.compile(rf"[^\p{{White_Space}}{_HF_PUNCT}]+|[{_HF_PUNCT}]")
_WHITESPACE_RE = regex.compile(r"\w+|[^\w\s]+")
_WHITESPACE_SPLIT_RE = regex.compile(r"\S+")


def check_text(text: str) -> None:
    """Raise ValueError for a lone surrogate (it has no UTF-8 form, so no tokenizer can encode it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"text has a lone surrogate {text[exc.start]!r} at index {exc.start}; clean or re-decode it (errors='replace')") from None


class PreTokenizer(ABC):
    unit = "char"

    @abstractmethod
    def split_offsets(self, text: str) -> list[tuple[str, int, int]]:
        """Pieces with their [start, end) span in `text`."""

    def split(self, text: str) -> list[str]:
        return [piece for piece, _, _ in self.split_offsets(text)]

    def split_raw(self, text: str) -> list[str]:
        """Pieces before the last per-piece mapping (byte characters); `map_word` finishes them.

        Callers cache and count raw pieces and map each distinct one once.
        """
        return self.split(text)

    def map_word(self, piece: str) -> str:
        return piece

    @abstractmethod
    def to_hf(self) -> dict[str, Any]:
        """The HF tokenizer.json `pre_tokenizer` object."""


class RegexFinder(PreTokenizer):
    """Keep every match of a regex (what HF's Whitespace / WhitespaceSplit / BertPreTokenizer do)."""

    def __init__(self, compiled: "regex.Pattern", hf: dict[str, Any]) -> None:
        self.compiled = compiled
        self.hf = hf

    def split(self, text: str) -> list[str]:
        return self.compiled.findall(text)

    def split_offsets(self, text: str) -> list[tuple[str, int, int]]:
        return [(m.group(), m.start(), m.end()) for m in self.compiled.finditer(text)]

    def to_hf(self) -> dict[str, Any]:
        return dict(self.hf)


def Whitespace() -> RegexFinder:
    """Words and runs of punctuation: `\\w+|[^\\w\\s]+`."""
    return RegexFinder(_WHITESPACE_RE, {"type": "Whitespace"})


def WhitespaceSplit() -> RegexFinder:
    return RegexFinder(_WHITESPACE_SPLIT_RE, {"type": "WhitespaceSplit"})


def BertPreTokenizer() -> RegexFinder:
    """Split on whitespace and isolate every punctuation character."""
    return RegexFinder(_BERT_RE, {"type": "BertPreTokenizer"})


class ByteLevel(PreTokenizer):
    """GPT-2: optional leading space, regex split, then each UTF-8 byte shown as one character."""

    unit = "byte"

    def __init__(self, add_prefix_space: bool = False, use_regex: bool = True, trim_offsets: bool = True) -> None:
        self.add_prefix_space = add_prefix_space
        self.use_regex = use_regex
        self.trim_offsets = trim_offsets
        self._re = regex.compile(GPT2_PATTERN)

    def _prefixed(self, text: str) -> tuple[str, int]:
        if self.add_prefix_space and text and not text.startswith(" "):
            return " " + text, 1
        return text, 0

    def split(self, text: str) -> list[str]:
        return [self.map_word(p) for p in self.split_raw(text)]

    def split_raw(self, text: str) -> list[str]:
        text, _ = self._prefixed(text)
        return self._re.findall(text) if self.use_regex else ([text] if text else [])

    def map_word(self, piece: str) -> str:
        return bytes_to_chars(piece.encode("utf-8"))

    def split_offsets(self, text: str) -> list[tuple[str, int, int]]:
        text, shift = self._prefixed(text)
        spans = [(m.start(), m.end()) for m in self._re.finditer(text)] if self.use_regex else ([(0, len(text))] if text else [])
        return [(bytes_to_chars(text[a:b].encode("utf-8")), max(a - shift, 0), b - shift) for a, b in spans]

    def to_hf(self) -> dict[str, Any]:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets, "use_regex": self.use_regex}


class Split(PreTokenizer):
    """Split on a regex; behavior 'isolated' keeps matches and gaps as pieces, 'removed' drops matches."""

    def __init__(self, pattern: str, behavior: str = "isolated", is_regex: bool = True) -> None:
        if behavior not in ("isolated", "removed"):
            raise ValueError(f"Split behavior {behavior!r} is not supported (isolated, removed)")
        self.pattern = pattern
        self.behavior = behavior
        self.is_regex = is_regex
        self._re = regex.compile(pattern if is_regex else regex.escape(pattern))

    def split_offsets(self, text: str) -> list[tuple[str, int, int]]:
        out: list[tuple[str, int, int]] = []
        last = 0
        for m in self._re.finditer(text):
            if m.start() > last:
                out.append((text[last : m.start()], last, m.start()))
            if self.behavior == "isolated" and m.end() > m.start():
                out.append((m.group(), m.start(), m.end()))
            last = m.end()
        if last < len(text):
            out.append((text[last:], last, len(text)))
        return out

    def to_hf(self) -> dict[str, Any]:
        key = "Regex" if self.is_regex else "String"
        return {"type": "Split", "pattern": {key: self.pattern}, "behavior": self.behavior.capitalize(), "invert": False}


class Metaspace(PreTokenizer):
    """SentencePiece style: spaces become '▁', a '▁' is prepended, and each '▁' starts a new piece."""

    unit = "metaspace"

    def __init__(self, replacement: str = "▁", prepend_scheme: str = "always", split: bool = True) -> None:
        if prepend_scheme not in ("always", "first", "never"):
            raise ValueError(f"unknown prepend_scheme {prepend_scheme!r}")
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split_words = split

    def split_offsets(self, text: str, first: bool = True) -> list[tuple[str, int, int]]:
        if not text:
            return []
        rep = self.replacement
        s = text.replace(" ", rep)
        shift = 0
        if not s.startswith(rep) and (self.prepend_scheme == "always" or (self.prepend_scheme == "first" and first)):
            s = rep + s
            shift = 1
        if not self.split_words:
            return [(s, 0, len(text))]
        out = []
        start = 0
        for i in range(1, len(s)):
            if s[i] == rep:
                out.append((s[start:i], max(start - shift, 0), i - shift))
                start = i
        out.append((s[start:], max(start - shift, 0), len(s) - shift))
        return out

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme, "split": self.split_words}


class Sequence(PreTokenizer):
    """Apply pre-tokenizers in turn, each to every piece of the previous one."""

    def __init__(self, pretokenizers: list[PreTokenizer]) -> None:
        self.pretokenizers = pretokenizers
        units = {p.unit for p in pretokenizers if p.unit != "char"}
        if len(units) > 1 or any(p.unit != "char" for p in pretokenizers[:-1]):
            raise ValueError("only the last pre-tokenizer of a Sequence may be ByteLevel or Metaspace")
        self.unit = pretokenizers[-1].unit if pretokenizers else "char"

    def split_raw(self, text: str) -> list[str]:
        pieces = [text]
        for pre in self.pretokenizers:
            pieces = [p for piece in pieces for p in pre.split_raw(piece)]
        return pieces

    def map_word(self, piece: str) -> str:
        return self.pretokenizers[-1].map_word(piece) if self.pretokenizers else piece

    def split_offsets(self, text: str) -> list[tuple[str, int, int]]:
        pieces = [(text, 0, len(text))]
        for pre in self.pretokenizers:
            nxt = []
            for piece, start, _ in pieces:
                nxt.extend((p, start + a, start + b) for p, a, b in pre.split_offsets(piece))
            pieces = nxt
        return pieces

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Sequence", "pretokenizers": [p.to_hf() for p in self.pretokenizers]}


def Gpt4ByteLevel() -> Sequence:
    """GPT-4 (cl100k) regex split, then byte-level characters."""
    return Sequence([Split(GPT4_PATTERN, "isolated"), ByteLevel(add_prefix_space=False, use_regex=False)])


PRESETS = {
    "whitespace": Whitespace,
    "whitespace_split": WhitespaceSplit,
    "bert": BertPreTokenizer,
    "gpt2": ByteLevel,
    "gpt4": Gpt4ByteLevel,
    "metaspace": Metaspace,
}


def build_pretokenizer(name: str) -> PreTokenizer:
    """A preset by name: whitespace, whitespace_split, bert, gpt2, gpt4 or metaspace."""
    if name not in PRESETS:
        raise ValueError(f"unknown pre-tokenizer {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name]()


def pretokenizer_from_hf(obj: dict[str, Any] | None, where: str = "pre_tokenizer") -> PreTokenizer | None:
    """Build a pre-tokenizer from its HF JSON object; unsupported types are a ValueError naming `where`."""
    if obj is None:
        return None
    kind = obj.get("type")
    if kind == "Whitespace":
        return Whitespace()
    if kind == "WhitespaceSplit":
        return WhitespaceSplit()
    if kind == "BertPreTokenizer":
        return BertPreTokenizer()
    if kind == "ByteLevel":
        return ByteLevel(obj.get("add_prefix_space", True), obj.get("use_regex", True), obj.get("trim_offsets", True))
    if kind == "Metaspace":
        scheme = obj.get("prepend_scheme")
        if scheme is None:
            scheme = "always" if obj.get("add_prefix_space", True) else "never"
        return Metaspace(obj.get("replacement", "▁"), scheme, obj.get("split", True))
    if kind == "Split":
        if obj.get("invert"):
            raise ValueError(f"{where}: Split with invert=true is not supported")
        pattern = obj["pattern"]
        is_regex = "Regex" in pattern
        return Split(pattern["Regex"] if is_regex else pattern["String"], str(obj.get("behavior", "Isolated")).lower(), is_regex)
    if kind == "Sequence":
        return Sequence([pretokenizer_from_hf(o, where) for o in obj["pretokenizers"]])  # type: ignore[misc]
    raise ValueError(f"{where}: unsupported pre-tokenizer type {kind!r}")
