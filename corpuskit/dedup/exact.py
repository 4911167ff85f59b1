"""Exact deduplication: documents whose normalised text hashes alike; the first occurrence is kept."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from corpuskit.dedup.decisions import DedupStep, DuplicateDecisions, document_key
from corpuskit.document import Document

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalise_for_exact(text: str, lowercase: bool = True, collapse_whitespace: bool = True, strip_punctuation: bool = False) -> str:
    """NFC text, optionally lower-cased, without punctuation, whitespace runs as one space.

    'Hello,  World!' -> 'hello, world!' (defaults) or 'hello world' (strip_punctuation).
    """
    text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = _PUNCT.sub("", text)
    if collapse_whitespace:
        text = " ".join(text.split())
    return text


def text_hash(text: str) -> bytes:
    """128-bit BLAKE2b of the text (collisions are negligible below ~10^18 documents)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class ExactDedup(DedupStep):
    """Drop documents whose normalised text equals an earlier document's.

    Drop reason: "exact_duplicate"; `metadata["duplicate_of"]` names the kept document.
    Memory in fit: 16 bytes a distinct text plus (key, id) of the first document of each;
    state: O(duplicates).
    """

    name = "exact_dedup"
    drop_label = "exact_duplicate"

    def __init__(self, lowercase: bool = True, collapse_whitespace: bool = True, strip_punctuation: bool = False) -> None:
        self.lowercase = lowercase
        self.collapse_whitespace = collapse_whitespace
        self.strip_punctuation = strip_punctuation
        self.decisions = DuplicateDecisions()

    def params(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase, "collapse_whitespace": self.collapse_whitespace, "strip_punctuation": self.strip_punctuation}

    def fit(self, docs: Iterable[Document]) -> None:
        first: dict[bytes, tuple[str, str]] = {}  # text hash -> (key, id) of its first document
        decisions = DuplicateDecisions()
        for doc in docs:
            digest = text_hash(normalise_for_exact(doc.text, self.lowercase, self.collapse_whitespace, self.strip_punctuation))
            key = document_key(doc.id, doc.text)
            kept = first.get(digest)
            if kept is None:
                first[digest] = (key, doc.id)
            else:
                decisions.add_duplicate(key, kept[1], kept[0])
        self.decisions = decisions
