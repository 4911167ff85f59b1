"""Gopher quality and repetition rules (Rae et al. 2021, appendix A), published thresholds as defaults.

Every threshold is a parameter; None switches its rule off. Each drop names the rule that fired.
Memory and time: O(document).
"""

from __future__ import annotations

from corpuskit.document import Document
from corpuskit.filters.text_stats import NgramStats, duplicate_stats, lines_of, load_word_list, paragraphs_of, strip_punctuation
from corpuskit.steps import Filter

BULLETS = ("\u2022", "\u2023", "\u25cf", "\u25e6", "\u2043", "\u2219", "-", "*", "\u00b7")
ELLIPSES = ("...", "\u2026")
DEFAULT_TOP_NGRAMS = {2: 0.20, 3: 0.18, 4: 0.16}
DEFAULT_DUP_NGRAMS = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


class GopherQualityFilter(Filter):
    """Gopher's quality heuristics.

    Words are `str.split()` tokens; those made only of punctuation/symbols do not count as words.
    Reasons: gopher_short_doc, gopher_long_doc, gopher_below_avg_word_length,
    gopher_above_avg_word_length, gopher_too_many_hashes (`#` per word),
    gopher_too_many_ellipsis (`...` and `…` per word),
    gopher_too_many_bullets, gopher_too_many_end_ellipsis, gopher_below_alpha_threshold,
    gopher_too_few_stop_words (fewer than `min_stop_words` *distinct* stop words, compared
    lower-cased: "of" 25 times is one).
    """

    name = "gopher_quality"

    def __init__(
        self,
        min_doc_words: int | None = 50,
        max_doc_words: int | None = 100_000,
        min_avg_word_length: float | None = 3.0,
        max_avg_word_length: float | None = 10.0,
        max_hash_word_ratio: float | None = 0.1,
        max_ellipsis_word_ratio: float | None = 0.1,
        max_bullet_lines_ratio: float | None = 0.9,
        max_ellipsis_lines_ratio: float | None = 0.3,
        min_alpha_words_ratio: float | None = 0.8,
        min_stop_words: int | None = 2,
        stop_words_file: str | None = None,
    ) -> None:
        self.min_doc_words = min_doc_words
        self.max_doc_words = max_doc_words
        self.min_avg_word_length = min_avg_word_length
        self.max_avg_word_length = max_avg_word_length
        self.max_hash_word_ratio = max_hash_word_ratio
        self.max_ellipsis_word_ratio = max_ellipsis_word_ratio
        self.max_bullet_lines_ratio = max_bullet_lines_ratio
        self.max_ellipsis_lines_ratio = max_ellipsis_lines_ratio
        self.min_alpha_words_ratio = min_alpha_words_ratio
        self.min_stop_words = min_stop_words
        self.stop_words = load_word_list(stop_words_file, "stopwords_en.txt")

    def drop_reason(self, doc: Document) -> str | None:
        text = doc.text
        tokens = text.split()
        words = [w for w in (strip_punctuation(t) for t in tokens) if w]
        n_words = len(words)
        if self.min_doc_words is not None and n_words < self.min_doc_words:
            return "gopher_short_doc"
        if self.max_doc_words is not None and n_words > self.max_doc_words:
            return "gopher_long_doc"
        if n_words == 0:
            return "gopher_short_doc"
        mean_length = sum(len(w) for w in words) / n_words
        if self.min_avg_word_length is not None and mean_length < self.min_avg_word_length:
            return "gopher_below_avg_word_length"
        if self.max_avg_word_length is not None and mean_length > self.max_avg_word_length:
            return "gopher_above_avg_word_length"
        if self.max_hash_word_ratio is not None and text.count("#") / n_words > self.max_hash_word_ratio:
            return "gopher_too_many_hashes"
        if self.max_ellipsis_word_ratio is not None:
            if sum(text.count(e) for e in ELLIPSES) / n_words > self.max_ellipsis_word_ratio:
                return "gopher_too_many_ellipsis"
        lines = lines_of(text)
        if lines and self.max_bullet_lines_ratio is not None:
            if sum(line.startswith(BULLETS) for line in lines) / len(lines) > self.max_bullet_lines_ratio:
                return "gopher_too_many_bullets"
        if lines and self.max_ellipsis_lines_ratio is not None:
            if sum(line.endswith(ELLIPSES) for line in lines) / len(lines) > self.max_ellipsis_lines_ratio:
                return "gopher_too_many_end_ellipsis"
        if self.min_alpha_words_ratio is not None:
            alpha = sum(t.isalpha() or any(c.isalpha() for c in t) for t in tokens)
            if alpha / len(tokens) < self.min_alpha_words_ratio:
                return "gopher_below_alpha_threshold"
        if self.min_stop_words is not None:
            found: set[str] = set()
            for word in words:
                lower = word.lower()
                if lower in self.stop_words:
                    found.add(lower)
                    if len(found) >= self.min_stop_words:
                        break
            if len(found) < self.min_stop_words:
                return "gopher_too_few_stop_words"
        return None


class GopherRepetitionFilter(Filter):
    """Gopher's repetition heuristics: duplicate lines/paragraphs and repeated word n-grams.

    Every fraction is over the document's characters. Duplicate lines/paragraphs count each
    repeat of an earlier one. `top_ngrams` maps n to the largest allowed share of the most
    frequent n-gram (its characters, spaces included, times its count; a text of a few words
    fails even without repeats); `dup_ngrams` maps n to
    the largest allowed share of characters in repeated n-grams. `dup_ngram_count` says which:
    "repeats" (default: only occurrences after the first, scanning left to right and jumping past
    each, as datatrove's filter that FineWeb was built with) or "all" (every occurrence of an
    n-gram that occurs twice or more, first included). Reasons: gopher_dup_para_frac,
    gopher_dup_para_char_frac, gopher_dup_line_frac, gopher_dup_line_char_frac,
    gopher_top_{n}_gram, gopher_duplicated_{n}_n_grams.
    """

    name = "gopher_repetition"

    def __init__(
        self,
        dup_line_frac: float | None = 0.3,
        dup_para_frac: float | None = 0.3,
        dup_line_char_frac: float | None = 0.2,
        dup_para_char_frac: float | None = 0.2,
        top_ngrams: dict[int, float] | None = None,
        dup_ngrams: dict[int, float] | None = None,
        dup_ngram_count: str = "repeats",
    ) -> None:
        if dup_ngram_count not in ("repeats", "all"):
            raise ValueError(f"gopher_repetition: dup_ngram_count must be 'repeats' or 'all', not {dup_ngram_count!r}")
        self.dup_line_frac = dup_line_frac
        self.dup_para_frac = dup_para_frac
        self.dup_line_char_frac = dup_line_char_frac
        self.dup_para_char_frac = dup_para_char_frac
        self.top_ngrams = dict(DEFAULT_TOP_NGRAMS if top_ngrams is None else top_ngrams)
        self.dup_ngrams = dict(DEFAULT_DUP_NGRAMS if dup_ngrams is None else dup_ngrams)
        self.dup_ngram_count = dup_ngram_count

    def drop_reason(self, doc: Document) -> str | None:
        text = doc.text
        total_chars = max(len(text), 1)
        paragraphs = paragraphs_of(text)
        if paragraphs:
            count, chars = duplicate_stats(paragraphs)
            if self.dup_para_frac is not None and count / len(paragraphs) > self.dup_para_frac:
                return "gopher_dup_para_frac"
            if self.dup_para_char_frac is not None and chars / total_chars > self.dup_para_char_frac:
                return "gopher_dup_para_char_frac"
        lines = lines_of(text)
        if lines:
            count, chars = duplicate_stats(lines)
            if self.dup_line_frac is not None and count / len(lines) > self.dup_line_frac:
                return "gopher_dup_line_frac"
            if self.dup_line_char_frac is not None and chars / total_chars > self.dup_line_char_frac:
                return "gopher_dup_line_char_frac"
        ngrams = NgramStats(text.split(), total_chars)
        for n, limit in sorted(self.top_ngrams.items()):
            if ngrams.top_fraction(n) > limit:
                return f"gopher_top_{n}_gram"
        fraction_of = ngrams.repeated_fraction if self.dup_ngram_count == "repeats" else ngrams.duplicate_fraction
        for n, limit in sorted(self.dup_ngrams.items()):
            fraction = fraction_of(n)
            if fraction > limit:
                return f"gopher_duplicated_{n}_n_grams"
            if fraction == 0.0:
                break  # no n-gram repeats, so no longer one does either
        return None
