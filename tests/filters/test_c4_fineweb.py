"""C4 and FineWeb rules on hand-written positive and negative examples."""

import pytest

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


FIVE_LINES = "\n".join(f"Line number {i} says one thing." for i in range(5))


def test_c4_line_endings_are_the_papers():
    # "a period, exclamation mark, question mark, or end quotation mark" (c4_utils: . ? ! ")
    kept = ["He said it was over.", "Was it over?", "It was over!", 'He said "it is over."']
    removed = ["He said it was over\u201d", "He said it was \u2019over\u2019", "It trailed off\u2026", "It trailed off...", "It ended with 'quotes'"]
    step = C4Filter(min_num_sentences=None)
    result = run(step, "\n".join(kept + removed))
    assert result.text.split("\n") == kept
    assert step.counters() == {"c4_removed_no_terminal_punct": len(removed)}
    assert run(C4Filter(min_num_sentences=None), 'He said "wait..."\nAnd then it was over.').text.startswith('He said "wait..."')


def test_c4_page_rules_look_only_at_kept_lines():
    # A removed line (no end mark, or too short) cannot condemn the page; a kept one does.
    assert run(C4Filter(), FIVE_LINES + "\nvar x = {a: 1}\nLorem ipsum").text == FIVE_LINES
    assert run(C4Filter(), FIVE_LINES + "\nThe code was var x = {a: 1}.") == Drop("c4_curly_bracket")
    assert run(C4Filter(), FIVE_LINES + "\nLorem ipsum dolor sit amet.") == Drop("c4_lorem_ipsum")
    # c4_utils' order: 'javascript' removes the line before '{' is looked at; lorem ipsum comes first
    assert run(C4Filter(), FIVE_LINES + "\nEnable javascript: {x}.").text == FIVE_LINES
    assert run(C4Filter(), FIVE_LINES + "\nLorem ipsum needs javascript here.") == Drop("c4_lorem_ipsum")


def test_c4_citations_are_removed_before_the_ending_is_checked():
    step = C4Filter(min_num_sentences=None)
    assert run(step, "It was founded in 1901.[1] Then it grew.[citation needed]").text == "It was founded in 1901. Then it grew."
    assert run(step, "It was founded in 1901. [2]\nIt grew fast in the 1920s.").text == "It grew fast in the 1920s."


def test_c4_sentences_are_split_properly():
    # Each kept line is at least one sentence: a headline ending in " (an end mark) counts 1,
    # though no '.', '!' or '?' is in it.
    lines = ['Minister says "no"', "Four more lines follow here.", "Then a third line.", "A fourth line ends.", "The fifth one too."]
    assert run(C4Filter(), "\n".join(lines)).text == "\n".join(lines)
    assert run(C4Filter(), "\n".join(lines[:4])) == Drop("c4_too_few_sentences")
    # "S. Kidman" and "Mr. Smith" do not end sentences: 4 sentences, not 6
    names = "Nicole S. Kidman met Mr. Smith today. It went well. They talked. Both left."
    assert run(C4Filter(), names) == Drop("c4_too_few_sentences")
    assert isinstance(run(C4Filter(min_num_sentences=4), names), Document)
    assert isinstance(run(C4Filter(), names + " Nobody stayed."), Document)


def test_c4_bad_words_option(tmp_path):
    words = tmp_path / "bad.txt"
    words.write_text("# a user-supplied list\nzounds\nby jove\n", encoding="utf-8")
    good = FIVE_LINES
    assert isinstance(run(C4Filter(bad_words_file=str(words)), good), Document)
    assert run(C4Filter(bad_words_file=str(words)), good + "\nZounds, that is what he said.") == Drop("c4_bad_words")
    assert run(C4Filter(bad_words_file=str(words)), good + "\nAnd then, by  Jove, it ended.") == Drop("c4_bad_words")
    assert isinstance(run(C4Filter(bad_words_file=str(words)), good + "\nThe zoundsy word is not listed."), Document)
    # only the kept lines count: a removed line with a bad word does not condemn the page
    assert isinstance(run(C4Filter(bad_words_file=str(words)), good + "\nzounds"), Document)
    assert isinstance(run(C4Filter(), good + "\nZounds, that is what he said."), Document)  # off by default
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no entries"):
        C4Filter(bad_words_file=str(empty))



def test_c4_shipped_bad_words_list_is_the_english_ldnoobw_with_its_licence():
    from importlib import resources

    data = resources.files("corpuskit.filters").joinpath("data")
    listed = [line for line in data.joinpath("ldnoobw_en.txt").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert len(listed) == 403 and "2g1c" in listed
    assert "Attribution 4.0 International" in data.joinpath("ldnoobw_LICENSE.txt").read_text(encoding="utf-8")
    good = "\n".join(f"This is sentence number {i} of a perfectly ordinary page." for i in range(6))
    assert isinstance(run(C4Filter(), good + "\nAn acrotomophilia forum."), Document)  # off by default
    assert run(C4Filter(bad_words=True), good + "\nAn acrotomophilia forum.") == Drop("c4_bad_words")
    assert isinstance(run(C4Filter(bad_words=True), good), Document)

def test_fineweb_line_ends_follow_datatrove():
    # Sentence terminators of any script count; closing quotes, '…' and a trailing space do not.
    hindi = "\n".join(["सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है।"] + [f"पंक्ति {i} में कुछ और शब्द लिखे गए हैं जो लंबे हैं।" for i in range(5)])
    assert isinstance(run(FineWebFilter(), hindi), Document)
    for ending in ('"', "\u201d", "\u2019", "\u2026", ". "):
        lines = "\n".join(f"This is a fairly long line number {i} of text{ending}" for i in range(10))
        assert run(FineWebFilter(), lines) == Drop("fineweb_line_punct_ratio"), ending
    for ending in (".", "!", "?", "\u3002", "\u0964", "\u061f"):
        lines = "\n".join(f"This is a fairly long line number {i} of text{ending}" for i in range(10))
        assert isinstance(run(FineWebFilter(), lines), Document), ending


def test_fineweb_duplicate_characters_over_the_whole_text():
    # datatrove divides repeated-line characters by the text's length without newlines
    line = "A line that repeats once in this document."
    text = "\n".join([line, line] + [f"Unique line {i} with some words in it today." for i in range(80)])
    duplicated = len(line) / (len(text) - text.count("\n"))
    assert isinstance(run(FineWebFilter(char_duplicates_ratio=duplicated + 1e-6), text), Document)
    assert run(FineWebFilter(char_duplicates_ratio=duplicated - 1e-6), text) == Drop("fineweb_char_dup_ratio")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Nicole S. Kidman won. She was happy.", ["Nicole S. Kidman won.", "She was happy."]),
        ("Mr. Smith went to Washington. He said 'hi.' Then left.", ["Mr. Smith went to Washington.", "He said 'hi.'", "Then left."]),
        ("U.S. troops arrived. e.g. this one.", ["U.S. troops arrived.", "e.g. this one."]),
        ("It was 3.5 percent! Really? yes.", ["It was 3.5 percent!", "Really?", "yes."]),
        ('He said "Go home." Then he left.', ['He said "Go home."', "Then he left."]),
        ("Wait... what?! No \u2026 never.", ["Wait... what?!", "No \u2026 never."]),
        ("Prohibited. \u00a9 2024 Syndicate.", ["Prohibited.", "\u00a9 2024 Syndicate."]),
        ("Minister says 'no'", ["Minister says 'no'"]),
        ("Done. --", ["Done. --"]),
        ("\u0938\u092c \u0920\u0940\u0915 \u0939\u0948\u0964 \u0906\u0917\u0947 \u091a\u0932\u094b\u0964", ["\u0938\u092c \u0920\u0940\u0915 \u0939\u0948\u0964", "\u0906\u0917\u0947 \u091a\u0932\u094b\u0964"]),
        ("   ", []),
    ],
)
def test_sentence_splitting(text, expected):
    from corpuskit.filters.text_stats import split_sentences

    assert split_sentences(text) == expected


def test_sentence_terminal_line_ends():
    from corpuskit.filters.text_stats import ends_with_sentence_terminal

    assert all(map(ends_with_sentence_terminal, ["a.", "a!", "a?", "a\u3002", "a\u0964", "a\u061f", "a\u17d4", "a\u17d6"]))
    assert not any(map(ends_with_sentence_terminal, ['a"', "a\u201d", "a\u2026", "a. ", "a", ""]))
