"""Gopher quality and repetition rules on hand-written positive and negative examples."""

import pytest

from corpuskit.document import Document, Drop
from corpuskit.filters.gopher import GopherQualityFilter, GopherRepetitionFilter
import numpy as np

from corpuskit.filters.text_stats import NgramStats, duplicate_ngram_char_fraction, strip_punctuation, top_ngram_char_fraction


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
        ("the and of with people #tag " * 12, "gopher_too_many_symbols"),
        ("\n".join(f"- item number {i} of the list with the things to have" for i in range(12)), "gopher_too_many_bullets"),
        ("\n".join(f"the story of item {i} was told to the people of the town and then..." for i in range(12)), "gopher_too_many_end_ellipsis"),
        ("the and of with " + " ".join(f"{i}-{i}" for i in range(80)), "gopher_below_alpha_threshold"),
        ("Market prices rose sharply yesterday across many sectors. " * 10, "gopher_too_few_stop_words"),
    ],
)
def test_quality_rules_fire(text, expected):
    assert reason(GopherQualityFilter(), text) == expected


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


def test_ngram_fraction_helpers():
    assert top_ngram_char_fraction(["a", "b", "a", "b"], 2) == 1.0
    assert top_ngram_char_fraction(["a", "b", "c"], 2) == 0.0  # nothing repeats
    assert duplicate_ngram_char_fraction(["a", "b", "c", "a", "b"], 2) == pytest.approx(0.8)
    assert duplicate_ngram_char_fraction(["a"], 5) == 0.0
    assert strip_punctuation('"Hello!"') == "Hello" and strip_punctuation("...") == ""


def test_vectorised_ngram_stats_equal_the_references():
    rng = np.random.default_rng(0)
    for trial in range(60):
        vocabulary = [f"w{i}" * int(rng.integers(1, 4)) for i in range(int(rng.integers(1, 12)))]
        words = list(rng.choice(vocabulary, size=int(rng.integers(0, 80))))
        stats = NgramStats(words)
        for n in (1, 2, 3, 5, 10):
            assert stats.top_fraction(n) == pytest.approx(top_ngram_char_fraction(words, n)), (trial, n)
            assert stats.duplicate_fraction(n) == pytest.approx(duplicate_ngram_char_fraction(words, n)), (trial, n)
