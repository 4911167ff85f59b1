"""FineWeb's line-level quality rules (Penedo et al. 2024), as datatrove's FineWebQualityFilter
(the filter the dataset was built with) applies them; published thresholds as defaults.

Memory and time: O(document).
"""

from __future__ import annotations

from corpuskit.document import Document
from corpuskit.filters.text_stats import duplicate_stats, ends_with_sentence_terminal
from corpuskit.steps import Filter


class FineWebFilter(Filter):
    """Drop documents whose lines look like lists, menus or boilerplate.

    Lines are the non-blank lines, not stripped (a line ending in a space has no end mark).
    Reasons: fineweb_line_punct_ratio (share of lines ending in a Unicode sentence terminator
    such as `.`, `!`, `?`, `。`, `।`, not a quote or `…`, below `line_punct_thr`), fineweb_short_line_ratio (share of lines of at most `short_line_length`
    characters above `short_line_thr`), fineweb_char_dup_ratio (characters in repeated lines over
    the text's characters other than newlines above `char_duplicates_ratio`), fineweb_list_ratio (newlines per word above
    `new_line_ratio`). None switches a rule off.
    """

    name = "fineweb"

    def __init__(
        self,
        line_punct_thr: float | None = 0.12,
        line_punct_exclude_zero: bool = False,
        short_line_thr: float | None = 0.67,
        short_line_length: int = 30,
        char_duplicates_ratio: float | None = 0.01,
        new_line_ratio: float | None = 0.3,
    ) -> None:
        self.line_punct_thr = line_punct_thr
        self.line_punct_exclude_zero = line_punct_exclude_zero
        self.short_line_thr = short_line_thr
        self.short_line_length = short_line_length
        self.char_duplicates_ratio = char_duplicates_ratio
        self.new_line_ratio = new_line_ratio

    def drop_reason(self, doc: Document) -> str | None:
        lines = [line for line in doc.text.split("\n") if line.strip()]
        if not lines:
            return "fineweb_empty"
        if self.line_punct_thr is not None:
            ratio = sum(map(ends_with_sentence_terminal, lines)) / len(lines)
            if ratio < self.line_punct_thr and not (ratio == 0 and self.line_punct_exclude_zero):
                return "fineweb_line_punct_ratio"
        if self.short_line_thr is not None:
            if sum(len(line) <= self.short_line_length for line in lines) / len(lines) > self.short_line_thr:
                return "fineweb_short_line_ratio"
        if self.char_duplicates_ratio is not None:
            _, chars = duplicate_stats(lines)
            if chars / (len(doc.text) - doc.text.count("\n")) > self.char_duplicates_ratio:
                return "fineweb_char_dup_ratio"
        if self.new_line_ratio is not None:
            words = len(doc.text.split())
            if words and doc.text.count("\n") / words > self.new_line_ratio:
                return "fineweb_list_ratio"
        return None
