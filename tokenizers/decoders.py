"""Decoders turn tokens back into text; each mirrors the Hugging Face decoder of the same name.

A decoder is a function-like object `decode(tokens: list[str]) -> str` with `to_hf()`;
`decoder_from_hf` builds one from tokenizer.json. With no decoder, tokens are joined by spaces
(HF's behaviour).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from corpuskit.tokenizers.bytelevel import CHAR_TO_BYTE


class Decoder(ABC):
    @abstractmethod
    def decode_chain(self, tokens: list[str]) -> list[str]:
        """Transform the token strings (decoders compose by chaining)."""

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(tokens))

    @abstractmethod
    def to_hf(self) -> dict[str, Any]:
        """The HF tokenizer.json `decoder` object."""


class ByteLevelDecoder(Decoder):
    """Map byte characters back to bytes; invalid UTF-8 becomes U+FFFD."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        data = bytearray()
        for tok in tokens:
            try:
                data.extend(CHAR_TO_BYTE[ch] for ch in tok)
            except KeyError:
                data.extend(tok.encode("utf-8"))
        return [data.decode("utf-8", errors="replace")]

    def to_hf(self) -> dict[str, Any]:
        return {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}


_CLEANUPS = [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]


def cleanup(text: str) -> str:
    """HF's tokenization-space cleanup (' .' -> '.', \" n't\" -> \"n't\", ...)."""
    for a, b in _CLEANUPS:
        text = text.replace(a, b)
    return text


class WordPieceDecoder(Decoder):
    """Join tokens with spaces, gluing '##' continuations to the previous token."""

    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        self.prefix = prefix
        self.cleanup = cleanup

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, tok in enumerate(tokens):
            if i and tok.startswith(self.prefix):
                tok = tok[len(self.prefix) :]
            elif i:
                tok = " " + tok
            out.append(cleanup(tok) if self.cleanup else tok)
        return out

    def to_hf(self) -> dict[str, Any]:
        return {"type": "WordPiece", "prefix": self.prefix, "cleanup": self.cleanup}


class MetaspaceDecoder(Decoder):
    """'▁' back to spaces; the space prepended by the pre-tokenizer is dropped."""

    def __init__(self, replacement: str = "▁", prepend_scheme: str = "always", split: bool = True) -> None:
        self.replacement = replacement
        self.prepend_scheme = prepend_scheme
        self.split = split

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, tok in enumerate(tokens):
            tok = tok.replace(self.replacement, " ")
            if i == 0 and self.prepend_scheme != "never" and tok.startswith(" "):
                tok = tok[1:]
            out.append(tok)
        return out

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme, "split": self.split}


class BPEDecoder(Decoder):
    """End-of-word suffix (e.g. '</w>') becomes a space."""

    def __init__(self, suffix: str = "</w>") -> None:
        self.suffix = suffix

    def decode_chain(self, tokens: list[str]) -> list[str]:
        n = len(tokens)
        return [tok.replace(self.suffix, "" if i == n - 1 else " ") for i, tok in enumerate(tokens)]

    def to_hf(self) -> dict[str, Any]:
        return {"type": "BPEDecoder", "suffix": self.suffix}


class ByteFallbackDecoder(Decoder):
    """Runs of '<0xNN>' tokens become the UTF-8 text they spell (U+FFFD per byte when invalid)."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        pending = bytearray()
        pending_n = 0

        def flush() -> None:
            nonlocal pending_n
            if pending_n:
                try:
                    out.append(bytes(pending).decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend(["\ufffd"] * pending_n)
                pending.clear()
                pending_n = 0

        for tok in tokens:
            if len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">"):
                try:
                    pending.append(int(tok[3:5], 16))
                    pending_n += 1
                    continue
                except ValueError:
                    pass
            flush()
            out.append(tok)
        flush()
        return out

    def to_hf(self) -> dict[str, Any]:
        return {"type": "ByteFallback"}


class FuseDecoder(Decoder):
    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(tokens)]

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Fuse"}


class StripDecoder(Decoder):
    def __init__(self, content: str = " ", start: int = 0, stop: int = 0) -> None:
        self.content, self.start, self.stop = content, start, stop

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for tok in tokens:
            begin = 0
            while begin < min(self.start, len(tok)) and tok[begin] == self.content:
                begin += 1
            end = len(tok)
            while end > begin and len(tok) - end < self.stop and tok[end - 1] == self.content:
                end -= 1
            out.append(tok[begin:end])
        return out

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Strip", "content": self.content, "start": self.start, "stop": self.stop}


class ReplaceDecoder(Decoder):
    def __init__(self, pattern: str, content: str) -> None:
        self.pattern, self.content = pattern, content

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return [tok.replace(self.pattern, self.content) for tok in tokens]

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Replace", "pattern": {"String": self.pattern}, "content": self.content}


class SequenceDecoder(Decoder):
    def __init__(self, decoders: list[Decoder]) -> None:
        self.decoders = decoders

    def decode_chain(self, tokens: list[str]) -> list[str]:
        for decoder in self.decoders:
            tokens = decoder.decode_chain(tokens)
        return tokens

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Sequence", "decoders": [d.to_hf() for d in self.decoders]}


def decoder_from_hf(obj: dict[str, Any] | None, where: str = "decoder") -> Decoder | None:
    """Build a decoder from its HF JSON object; unsupported types are a ValueError naming `where`."""
    if obj is None:
        return None
    kind = obj.get("type")
    if kind == "ByteLevel":
        return ByteLevelDecoder()
    if kind == "WordPiece":
        return WordPieceDecoder(obj.get("prefix", "##"), obj.get("cleanup", True))
    if kind == "Metaspace":
        scheme = obj.get("prepend_scheme") or ("always" if obj.get("add_prefix_space", True) else "never")
        return MetaspaceDecoder(obj.get("replacement", "▁"), scheme, obj.get("split", True))
    if kind == "BPEDecoder":
        return BPEDecoder(obj.get("suffix", "</w>"))
    if kind == "ByteFallback":
        return ByteFallbackDecoder()
    if kind == "Fuse":
        return FuseDecoder()
    if kind == "Strip":
        return StripDecoder(obj.get("content", " "), obj.get("start", 0), obj.get("stop", 0))
    if kind == "Replace":
        pattern = obj.get("pattern", {})
        if "String" not in pattern:
            raise ValueError(f"{where}: Replace decoder with a regex is not supported")
        return ReplaceDecoder(pattern["String"], obj.get("content", ""))
    if kind == "Sequence":
        return SequenceDecoder([decoder_from_hf(d, where) for d in obj["decoders"]])  # type: ignore[misc]
    raise ValueError(f"{where}: unsupported decoder type {kind!r}")
