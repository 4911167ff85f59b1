"""Toxicity lexicon/classifier and PII redaction on hand-written examples."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.document import Document, Drop
from corpuskit.filters.fasttext_models import default_lid_model_path
from corpuskit.filters.pii import PIIRedactor
from corpuskit.filters.toxicity import ToxicityFilter


def test_lexicon_matches_words_not_substrings(good_text):
    step = ToxicityFilter()
    assert step.lexicon_score("Scunthorpe hosted a cocktail party in Essex.") == (0, 0.0)
    assert step.lexicon_score("What the FUCK, you stupid asshole")[0] == 2
    assert step.process(Document("a", "Shit. You are a fucking asshole.")) == Drop("toxicity_lexicon")
    doc = Document("b", good_text + " Oh shit.")
    assert step.process(doc) is doc  # one match in a long text: below min_matches
    assert 0 < doc.metadata["toxicity_lexicon"] < 0.01


def test_user_lexicon_with_phrases(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("# mine\nrotten egg\nbad\n")
    step = ToxicityFilter(lexicon_file=str(path), min_matches=1, max_density=0.1)
    assert step.process(Document("a", "You ROTTEN\n egg!")) == Drop("toxicity_lexicon")
    assert isinstance(step.process(Document("b", "badge rotten eggs")), Document)


def test_fasttext_classifier_path():
    # Any fastText supervised model works; the language-ID model stands in for a toxicity one.
    step = ToxicityFilter(model_path=str(default_lid_model_path()), model_label="__label__fr", model_threshold=0.5)
    doc = Document("a", "Bonjour à tous, je suis très content de vous voir aujourd'hui.")
    assert step.process(doc) == Drop("toxicity_classifier") and doc.metadata["toxicity_model"] > 0.5
    english = Document("b", "Hello everyone, I am very happy to see you today.")
    assert step.process(english) is english and english.metadata["toxicity_model"] < 0.5


@pytest.mark.parametrize(
    "text,expected,kinds",
    [
        ("Write to jane.doe+news@mail.example.org today.", "Write to <EMAIL> today.", {"email": 1}),
        ("Call +1 (555) 123-4567 or 555-123-4567.", "Call <PHONE> or <PHONE>.", {"phone": 2}),
        ("UK: +44 20 7946 0958, local 020 7946 0958", "UK: <PHONE>, local <PHONE>", {"phone": 2}),
        ("Host 192.168.1.20. Gateway 10.0.0.1", "Host <IP_ADDRESS>. Gateway <IP_ADDRESS>", {"ip": 2}),
        ("IPv6 2001:db8::8a2e:370:7334 and ::1 here", "IPv6 <IP_ADDRESS> and <IP_ADDRESS> here", {"ip": 2}),
    ],
)
def test_pii_redacted_and_counted(text, expected, kinds):
    step = PIIRedactor()
    doc = Document("a", text)
    assert step.process(doc) is doc
    assert doc.text == expected and doc.metadata["pii"] == kinds
    assert step.counters() == {f"pii_{k}": n for k, n in kinds.items()}


@pytest.mark.parametrize(
    "text",
    [
        "Released version 1.2.3.4 on 2023-01-15; Python 3.11.4 and v2.0.10.3 follow.",
        "Dates 25.11.2026, 11/25/2026, 2026-11-25 and the years 1990-2000.",
        "It costs 1,234.56 dollars; 12:30:45 is the time; ratio 3:2:1.",
        "Invalid 256.300.1.1 and 999.1.1.1 are not addresses; ISBN 978-3-16-148410-0.",
        "Population 67 000 000 and page 12-13.",
    ],
)
def test_no_false_hits_on_versions_dates_numbers(text):
    step = PIIRedactor()
    doc = Document("a", text)
    step.process(doc)
    assert doc.text == text and "pii" not in doc.metadata


def test_pii_kinds_and_placeholders_configurable():
    step = PIIRedactor(kinds=["email"], email_placeholder="[mail]")
    doc = Document("a", "me@example.com 192.168.0.1")
    step.process(doc)
    assert doc.text == "[mail] 192.168.0.1"
    with pytest.raises(ValueError, match="unknown PII kinds"):
        PIIRedactor(kinds=["ssn"])


def test_bad_lexicon_files_are_named(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n\n")
    with pytest.raises(ValueError, match="empty.txt: no entries"):
        ToxicityFilter(lexicon_file=str(empty))
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        ToxicityFilter(lexicon_file=str(tmp_path / "missing.txt"))


@settings(max_examples=200, deadline=None)
@given(
    year=st.integers(1000, 2999), month=st.integers(1, 12), day=st.integers(1, 31),
    version=st.lists(st.integers(0, 300), min_size=2, max_size=4),
)
def test_dates_and_versions_never_redacted(year, month, day, version):
    dotted = ".".join(map(str, version))
    text = f"On {year}-{month:02d}-{day:02d} ({day:02d}.{month:02d}.{year}, {month}/{day}/{year}) we shipped version {dotted} and v{dotted}."
    assert PIIRedactor().redact(text) == (text, {})


@settings(max_examples=100, deadline=None)
@given(user=st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True), domain=st.from_regex(r"[a-z]{2,10}", fullmatch=True))
def test_generated_emails_redacted(user, domain):
    text, found = PIIRedactor().redact(f"Contact {user}@{domain}.com today.")
    assert text == "Contact <EMAIL> today." and found == {"email": 1}
