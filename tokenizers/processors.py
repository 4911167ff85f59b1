"""Post-processors: the special tokens a tokenizer.json wraps around every encoded sequence.

Only single sequences are encoded here, so a post-processor reduces to ids put before and after
(BERT's [CLS] ... [SEP], RoBERTa's <s> ... </s>). The original JSON is kept so that saving a
loaded file writes it back unchanged.
"""

from __future__ import annotations

from typing import Any


class PostProcessor:
    """Ids to put around a single encoded sequence."""

    def __init__(self, hf: dict[str, Any], prefix: list[int], suffix: list[int]) -> None:
        self.hf = hf
        self.prefix = prefix
        self.suffix = suffix

    def apply(self, ids: list[int]) -> list[int]:
        return self.prefix + ids + self.suffix if (self.prefix or self.suffix) else ids

    def to_hf(self) -> dict[str, Any]:
        return self.hf


def _template(obj: dict[str, Any], where: str) -> tuple[list[int], list[int]]:
    prefix: list[int] = []
    suffix: list[int] = []
    seen_sequence = False
    specials = obj.get("special_tokens", {})
    for piece in obj.get("single", []):
        if "Sequence" in piece:
            seen_sequence = True
        elif "SpecialToken" in piece:
            name = piece["SpecialToken"]["id"]
            if name not in specials:
                raise ValueError(f"{where}: template names special token {name!r} that special_tokens lacks")
            (suffix if seen_sequence else prefix).extend(specials[name]["ids"])
        else:
            raise ValueError(f"{where}: unknown template piece {piece!r}")
    return prefix, suffix


def processor_from_hf(obj: dict[str, Any] | None, where: str = "post_processor") -> PostProcessor | None:
    """Build the post-processor of a tokenizer.json; unsupported types are a ValueError naming `where`."""
    if obj is None:
        return None
    kind = obj.get("type")
    if kind == "ByteLevel":
        return PostProcessor(obj, [], [])
    if kind == "TemplateProcessing":
        return PostProcessor(obj, *_template(obj, where))
    if kind in ("BertProcessing", "RobertaProcessing"):
        return PostProcessor(obj, [obj["cls"][1]], [obj["sep"][1]])
    if kind == "Sequence":
        prefix: list[int] = []
        suffix: list[int] = []
        for sub in obj.get("processors", []):
            p = processor_from_hf(sub, where)
            if p is not None:
                prefix, suffix = p.prefix + prefix, suffix + p.suffix
        return PostProcessor(obj, prefix, suffix)
    raise ValueError(f"{where}: unsupported post-processor type {kind!r}")
