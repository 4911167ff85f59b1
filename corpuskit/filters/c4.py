"""C4's cleaning rules (Raffel et al. 2020, section 2.2, as TensorFlow Datasets' `c4_utils`
implements them): line removal, then page rules.

Unlike a plain filter, C4 edits the text: lines that fail a line rule are removed (counted per
rule), then the page is dropped if a kept line holds "lorem ipsum" or `{`, if the kept lines hold
fewer than `min_num_sentences` sentences, or (optional) if it contains a listed bad word.
Thresholds are the paper's (3 words per line, 5 sentences per page), as datatrove uses them;
see docs/filters.md for why not `c4_utils`' defaults. Memory: O(document).
"""

from __future__ import annotations

import re
from functools import lru_cache

from corpuskit.document import Document, Drop
from corpuskit.filters.text_stats import load_word_list, split_sentences
from corpuskit.filters.toxicity import Lexicon
from corpuskit.steps import Step

CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
END_MARKS = (".", "!", "?", '"')  # the paper's "terminal punctuation mark", as c4_utils lists them
ELLIPSIS = "..."
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


@lru_cache(maxsize=4)
def bad_words_lexicon(path: str | None) -> Lexicon:
    """The bad-words list at `path`, or None: the shipped English LDNOOBW list (data/ldnoobw_en.txt)."""
    return Lexicon(load_word_list(path, "ldnoobw_en.txt"), path or "LDNOOBW (en)")


class C4Filter(Step):
    """C4 rules, in `c4_utils`' order. Line rules (remove the line): a word longer than
    `max_word_length`, no terminal punctuation (`. ! ? "`; a line ending in `...` counts as
    none), fewer than `min_words_per_line` words, 'javascript', policy text. Page rules (drop,
    checked over the kept lines): c4_lorem_ipsum, c4_curly_bracket, c4_too_few_lines (nothing
    kept), c4_too_few_sentences, c4_bad_words (only with `bad_words_file`: one word or phrase a
    line, matched case-insensitively on word boundaries). Counters: c4_removed_<rule> per line.
    c4_bad_words is on with `bad_words: true` (the shipped English LDNOOBW list, CC BY 4.0) or
    with `bad_words_file` (your list).
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
        bad_words: bool = False,
        bad_words_file: str | None = None,
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
        self.bad_words_file = bad_words_file
        self.bad_words = bad_words or bad_words_file is not None
        if self.bad_words:
            bad_words_lexicon(bad_words_file)  # a missing or empty list fails when the step is built

    def process(self, doc: Document) -> Document | Drop:
        kept: list[str] = []
        sentences = 0
        for raw in doc.text.split("\n"):
            line = raw.strip()
            if not line:
                continue
            outcome = self._line(line)
            if isinstance(outcome, Drop):
                return outcome
            if outcome is None:
                continue
            kept.append(outcome)
            if self.min_num_sentences is not None:
                sentences += len(split_sentences(outcome))
        if not kept:
            return Drop("c4_too_few_lines")
        if self.min_num_sentences is not None and sentences < self.min_num_sentences:
            return Drop("c4_too_few_sentences")
        cleaned = "\n".join(kept)
        if self.bad_words and bad_words_lexicon(self.bad_words_file).count(cleaned) > 0:
            return Drop("c4_bad_words")
        doc.text = cleaned
        return doc

    def _line(self, line: str) -> str | Drop | None:
        """The kept line, None when a line rule removes it, or a Drop when it condemns the page.

        The order is `c4_utils`': word length and word count look at the line before citation
        markers are removed, the ending after (so 'Text. [1]' ends in a space and is removed).
        """
        words = line.split()
        if self.max_word_length is not None and any(len(w) > self.max_word_length for w in words):
            return self._removed("long_word")
        if self.remove_citations:
            line = CITATION.sub("", line)
        if self.filter_no_terminal_punct and (not line.endswith(END_MARKS) or line.endswith(ELLIPSIS)):
            return self._removed("no_terminal_punct")
        if self.min_words_per_line is not None and len(words) < self.min_words_per_line:
            return self._removed("too_few_words")
        lower = line.lower()
        if self.filter_lorem_ipsum and "lorem ipsum" in lower:
            return Drop("c4_lorem_ipsum")
        if self.filter_javascript and "javascript" in lower:
            return self._removed("javascript")
        if self.filter_curly_bracket and "{" in line:
            return Drop("c4_curly_bracket")
        if self.filter_policy and any(p in lower for p in POLICY_PHRASES):
            return self._removed("policy")
        return line

    def _removed(self, rule: str) -> None:
        self.count(f"c4_removed_{rule}")
        return None
