"""C4's cleaning rules (Raffel et al. 2020, section 2.2): line removal, then document rules.

Unlike a plain filter, C4 edits the text: lines that fail a line rule are removed (counted per
rule), then the document is dropped if what remains breaks a document rule. Memory: O(document).
"""

from __future__ import annotations

import re

from corpuskit.document import Document, Drop
from corpuskit.filters.text_stats import TERMINAL_PUNCTUATION
from corpuskit.steps import Step

CITATION = re.compile(r"\[\d+\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]+[\"'\u201d\u2019)\]]*(?=\s|$)")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


class C4Filter(Step):
    """C4 rules. Line rules (remove the line): no terminal punctuation, fewer than
    `min_words_per_line` words, a word longer than `max_word_length`, 'javascript', policy text.
    Document rules (drop): c4_lorem_ipsum, c4_curly_bracket, c4_too_few_lines (nothing left),
    c4_too_few_sentences. Counters: c4_removed_<rule> per removed line.
    """

    name = "c4"

    def __init__(
        self,
        remove_citations: bool = True,
        filter_no_terminal_punct: bool = True,
        min_words_per_line: int | None = 3,
        max_word_length: int | None = 1000,
        filter_javascript: bool = True,
        filter_policy: bool = True,
        filter_lorem_ipsum: bool = True,
        filter_curly_bracket: bool = True,
        min_num_sentences: int | None = 5,
    ) -> None:
        self.remove_citations = remove_citations
        self.filter_no_terminal_punct = filter_no_terminal_punct
        self.min_words_per_line = min_words_per_line
        self.max_word_length = max_word_length
        self.filter_javascript = filter_javascript
        self.filter_policy = filter_policy
        self.filter_lorem_ipsum = filter_lorem_ipsum
        self.filter_curly_bracket = filter_curly_bracket
        self.min_num_sentences = min_num_sentences

    def line_removal_reason(self, line: str) -> str | None:
        """Why C4 removes this (stripped, non-empty) line, or None to keep it."""
        words = line.split()
        if self.filter_no_terminal_punct and not line.endswith(TERMINAL_PUNCTUATION):
            return "no_terminal_punct"
        if self.min_words_per_line is not None and len(words) < self.min_words_per_line:
            return "too_few_words"
        if self.max_word_length is not None and any(len(w) > self.max_word_length for w in words):
            return "long_word"
        lower = line.lower()
        if self.filter_javascript and "javascript" in lower:
            return "javascript"
        if self.filter_policy and any(p in lower for p in POLICY_PHRASES):
            return "policy"
        return None

    def process(self, doc: Document) -> Document | Drop:
        text = doc.text
        lower = text.lower()
        if self.filter_lorem_ipsum and "lorem ipsum" in lower:
            return Drop("c4_lorem_ipsum")
        if self.filter_curly_bracket and "{" in text:
            return Drop("c4_curly_bracket")
        kept: list[str] = []
        for raw in text.split("\n"):
            line = CITATION.sub("", raw).strip() if self.remove_citations else raw.strip()
            if not line:
                continue
            reason = self.line_removal_reason(line)
            if reason is None:
                kept.append(line)
            else:
                self.count(f"c4_removed_{reason}")
        if not kept:
            return Drop("c4_too_few_lines")
        cleaned = "\n".join(kept)
        if self.min_num_sentences is not None and len(SENTENCE_END.findall(cleaned)) < self.min_num_sentences:
            return Drop("c4_too_few_sentences")
        doc.text = cleaned
        return doc
