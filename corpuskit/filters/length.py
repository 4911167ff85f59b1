"""Length filter: characters and whitespace-separated words, both bounds optional."""

from __future__ import annotations

from corpuskit.document import Document
from corpuskit.steps import Filter


class LengthFilter(Filter):
    """Drop documents outside [min_chars, max_chars] or [min_words, max_words].

    Reasons: `empty`, `too_short`, `too_long`, `too_few_words`, `too_many_words`. Words are
    counted only when a word bound is set (a 50 MB document is not split for nothing).
    """

    name = "length"

    def __init__(
        self,
        min_chars: int = 1,
        max_chars: int | None = None,
        min_words: int | None = None,
        max_words: int | None = None,
    ) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.min_words = min_words
        self.max_words = max_words

    def drop_reason(self, doc: Document) -> str | None:
        chars = len(doc.text)
        if chars == 0 or not doc.text.strip():
            return "empty"
        if chars < self.min_chars:
            return "too_short"
        if self.max_chars is not None and chars > self.max_chars:
            return "too_long"
        if self.min_words is not None or self.max_words is not None:
            words = len(doc.text.split())
            if self.min_words is not None and words < self.min_words:
                return "too_few_words"
            if self.max_words is not None and words > self.max_words:
                return "too_many_words"
        return None
