"""C4 and FineWeb rules on hand-written positive and negative examples."""

from corpuskit.document import Document, Drop
from corpuskit.filters.c4 import C4Filter
from corpuskit.filters.fineweb import FineWebFilter


def run(step, text):
    return step.process(Document("d", text))


def test_c4_removes_bad_lines_and_keeps_good_ones(good_text):
    text = "Menu\n" + good_text + "\nPlease enable JavaScript to view this page.\nRead our privacy policy here.\nShort one.\nSee more [1] of this story here today."
    step = C4Filter()
    result = run(step, text)
    assert isinstance(result, Document)
    assert "Menu" not in result.text and "JavaScript" not in result.text and "privacy" not in result.text
    assert "Short one." not in result.text and "[1]" not in result.text and "See more  of this story here today." in result.text
    assert step.counters() == {"c4_removed_no_terminal_punct": 1, "c4_removed_javascript": 1, "c4_removed_policy": 1, "c4_removed_too_few_words": 1}


def test_c4_document_rules():
    five = " ".join(f"This is sentence number {i}." for i in range(5))
    assert isinstance(run(C4Filter(), five), Document)
    assert run(C4Filter(), five + " Lorem ipsum dolor sit amet.") == Drop("c4_lorem_ipsum")
    assert run(C4Filter(), five + " function() { return 1; }.") == Drop("c4_curly_bracket")
    assert run(C4Filter(), "This is one sentence. And a second one.") == Drop("c4_too_few_sentences")
    assert run(C4Filter(), "no punctuation here\nnor here") == Drop("c4_too_few_lines")
    assert isinstance(run(C4Filter(min_num_sentences=2), "This is one sentence. And a second one."), Document)
    assert isinstance(run(C4Filter(filter_curly_bracket=False), five + " {x} fine."), Document)


def test_fineweb_good_text_passes(good_text):
    assert isinstance(run(FineWebFilter(), good_text), Document)


def test_fineweb_rules_fire(good_text):
    menu = "\n".join(["Home", "Products and services for everyone", "About us", "Contact", "Log in", "Search"] * 2)
    assert run(FineWebFilter(), menu) == Drop("fineweb_line_punct_ratio")
    short = "\n".join(["Short line one.", "Short line two.", "Another short.", "This is a much longer line that passes the length bar."])
    assert run(FineWebFilter(), short) == Drop("fineweb_short_line_ratio")
    dup = good_text + "\nThe chair said the hospital needs more nurses today.\nThe chair said the hospital needs more nurses today."
    assert run(FineWebFilter(), dup) == Drop("fineweb_char_dup_ratio")
    listy = "\n".join(f"Item {i} sold." for i in range(40))  # 3 words a line: 0.33 newlines per word
    assert run(FineWebFilter(short_line_thr=None), listy) == Drop("fineweb_list_ratio")
    assert run(FineWebFilter(), "   \n ") == Drop("fineweb_empty")
    assert run(FineWebFilter(line_punct_thr=None, short_line_thr=None), menu) == Drop("fineweb_char_dup_ratio")
    assert isinstance(run(FineWebFilter(line_punct_thr=None, short_line_thr=None, char_duplicates_ratio=None, new_line_ratio=None), menu), Document)
