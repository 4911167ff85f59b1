"""Gopher quality and repetition rules on hand-written positive and negative examples."""

import numpy as np
import pytest

from corpuskit.document import Document, Drop
from corpuskit.filters.gopher import GopherQualityFilter, GopherRepetitionFilter
from corpuskit.filters.text_stats import (
    NgramStats,
    duplicate_ngram_char_fraction,
    repeated_ngram_char_fraction,
    strip_punctuation,
    top_ngram_char_fraction,
)


def reason(step, text):
    result = step.process(Document("d", text))
    return result.reason if isinstance(result, Drop) else None


def test_good_text_passes_both(good_text):
    assert reason(GopherQualityFilter(), good_text) is None
    assert reason(GopherRepetitionFilter(), good_text) is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The cat and the dog went to the park with us.", "gopher_short_doc"),
        ("a to of be " * 30, "gopher_below_avg_word_length"),
        (" ".join(["the", "and", "of"] + ["internationalisation"] * 60), "gopher_above_avg_word_length"),
        ("the and of with people #tag " * 12, "gopher_too_many_hashes"),
        ("the and of with people wait... " * 12, "gopher_too_many_ellipsis"),
        ("\n".join(f"- item number {i} of the list with the things to have" for i in range(12)), "gopher_too_many_bullets"),
        ("\n".join(f"the story of item {i} was told to the people of the town and then..." for i in range(12)), "gopher_too_many_end_ellipsis"),
        ("the and of with " + " ".join(f"{i}-{i}" for i in range(80)), "gopher_below_alpha_threshold"),
        ("Market prices rose sharply yesterday across many sectors. " * 10, "gopher_too_few_stop_words"),
    ],
)
def test_quality_rules_fire(text, expected):
    assert reason(GopherQualityFilter(), text) == expected


def test_stop_words_must_be_distinct():
    # Gopher: "at least two of the following English words"; a Dutch page saying "of" (Dutch
    # "or") many times holds one of them, however often.
    dutch = " ".join(["Wilt u koffie of thee bij het ontbijt vandaag"] * 8)
    assert reason(GopherQualityFilter(), dutch) == "gopher_too_few_stop_words"
    assert reason(GopherQualityFilter(), dutch + " and") is None
    assert reason(GopherQualityFilter(min_stop_words=1), dutch) is None
    assert reason(GopherQualityFilter(), dutch + " OF THE") is None  # compared lower-cased


def test_hash_and_ellipsis_ratios_have_separate_bounds():
    # 6 '#' and 6 ellipses in 100 words: 0.12 together, 0.06 each: the paper bounds each at 0.1.
    words = ("the council and the mayor talked with people about the plans " * 10).split()
    for i in range(6):
        words[i * 10] = "#" + words[i * 10]
        words[i * 10 + 5] = words[i * 10 + 5] + "..."
    text = " ".join(words)
    assert reason(GopherQualityFilter(), text) is None
    assert reason(GopherQualityFilter(max_hash_word_ratio=0.05), text) == "gopher_too_many_hashes"
    assert reason(GopherQualityFilter(max_ellipsis_word_ratio=0.05), text) == "gopher_too_many_ellipsis"
    hashy = " ".join(f"#the #and #council{i}" for i in range(20))
    assert reason(GopherQualityFilter(), hashy) == "gopher_too_many_hashes"
    assert reason(GopherQualityFilter(max_hash_word_ratio=None, max_ellipsis_word_ratio=None), hashy) is None


def test_quality_thresholds_configurable_and_switchable(good_text):
    assert reason(GopherQualityFilter(min_doc_words=500), good_text) == "gopher_short_doc"
    assert reason(GopherQualityFilter(max_doc_words=20), good_text) == "gopher_long_doc"
    short = "The cat and the dog went to the park with us."
    assert reason(GopherQualityFilter(min_doc_words=None), short) is None
    assert reason(GopherQualityFilter(min_doc_words=5, min_stop_words=None), "Prices rose sharply across many sectors") is None


def test_custom_stop_words_file(tmp_path, good_text):
    path = tmp_path / "stop.txt"
    path.write_text("# none of these appear\nzyzzyva\nquux\n")
    assert reason(GopherQualityFilter(stop_words_file=str(path)), good_text) == "gopher_too_few_stop_words"


def test_repetition_rules_fire(good_text):
    para = "The same paragraph repeated here again and again for filler."
    assert reason(GopherRepetitionFilter(), "\n\n".join([para] * 4 + ["Another one."])) == "gopher_dup_para_frac"
    lines = "\n".join(["Home", "About", "Home", "Contact", "Home", "News"])
    assert reason(GopherRepetitionFilter(dup_para_frac=None, dup_para_char_frac=None), lines) == "gopher_dup_line_frac"
    long_dup = good_text + "\n\n" + good_text.split("\n\n")[0]
    assert reason(GopherRepetitionFilter(dup_para_frac=None), long_dup) == "gopher_dup_para_char_frac"
    spam = "buy now " * 40 + good_text
    assert reason(GopherRepetitionFilter(), spam) == "gopher_top_2_gram"
    assert reason(GopherRepetitionFilter(top_ngrams={}), good_text + " " + good_text.replace("\n", " ")) == "gopher_duplicated_5_n_grams"


def test_repeated_ngrams_count_only_the_repeats():
    # A headline that comes back in a breadcrumb: 8 words of a 2,000-character article repeat.
    # Counting only the repeat (datatrove's reading) keeps it; counting both copies drops it.
    headline = "Council approves the new budget for the regional hospital"
    body = " ".join(f"Report{i} tells readers{i} about fact{i} and detail{i} today{i}." for i in range(22))
    text = f"{headline}\n\nNews > Health > {headline}\n\n{body}"
    ratio_repeats = NgramStats(text.split(), len(text)).repeated_fraction(5)
    ratio_all = NgramStats(text.split(), len(text)).duplicate_fraction(5)
    assert ratio_all > 1.5 * ratio_repeats > 0
    limits = {5: (ratio_repeats + ratio_all) / 2}
    assert reason(GopherRepetitionFilter(top_ngrams={}, dup_ngrams=limits), text) is None
    assert reason(GopherRepetitionFilter(top_ngrams={}, dup_ngrams=limits, dup_ngram_count="all"), text) == "gopher_duplicated_5_n_grams"
    with pytest.raises(ValueError, match="dup_ngram_count"):
        GopherRepetitionFilter(dup_ngram_count="first")


def test_ngram_fraction_helpers():
    assert top_ngram_char_fraction(["a", "b", "a", "b"], 2, 7) == pytest.approx(6 / 7)
    assert top_ngram_char_fraction(["a", "b", "c"], 2, 5) == pytest.approx(3 / 5)  # 'a b' once: a tiny text
    assert duplicate_ngram_char_fraction(["a", "b", "c", "a", "b"], 2, 9) == pytest.approx(4 / 9)
    assert repeated_ngram_char_fraction(["a", "b", "c", "a", "b"], 2, 9) == pytest.approx(2 / 9)
    # the scan jumps past a repeat: in 'x x x x x' (n=2) the repeats start at words 1 and 3
    assert repeated_ngram_char_fraction(["x"] * 5, 2, 9) == pytest.approx(4 / 9)
    assert repeated_ngram_char_fraction(["x"] * 6, 2, 11) == pytest.approx(4 / 11)
    assert duplicate_ngram_char_fraction(["a"], 5, 1) == 0.0
    assert strip_punctuation('"Hello!"') == "Hello" and strip_punctuation("...") == ""


def test_vectorised_ngram_stats_equal_the_references():
    rng = np.random.default_rng(0)
    for trial in range(80):
        vocabulary = [f"w{i}" * int(rng.integers(1, 4)) for i in range(int(rng.integers(1, 12)))]
        words = list(rng.choice(vocabulary, size=int(rng.integers(0, 80))))
        total = sum(map(len, words)) + len(words)
        stats = NgramStats(words, total)
        for n in (1, 2, 3, 5, 10):
            assert stats.top_fraction(n) == pytest.approx(top_ngram_char_fraction(words, n, total)), (trial, n)
            assert stats.duplicate_fraction(n) == pytest.approx(duplicate_ngram_char_fraction(words, n, total)), (trial, n)
            assert stats.repeated_fraction(n) == pytest.approx(repeated_ngram_char_fraction(words, n, total)), (trial, n)
