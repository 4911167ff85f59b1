"""The normalize and length steps."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from corpuskit.document import Document, Drop
from corpuskit.filters.length import LengthFilter
from corpuskit.filters.normalize import Normalize

import pytest


def run(step, text):
    result = step.process(Document("d", text))
    return result.reason if isinstance(result, Drop) else result.text


def test_unicode_forms():
    decomposed = "cafe\u0301 ﬁne ＡＢＣ"
    assert run(Normalize(form="NFC"), decomposed) == "café ﬁne ＡＢＣ"
    assert run(Normalize(form="NFKC"), decomposed) == "café fine ABC"
    assert run(Normalize(form="none", whitespace="keep"), decomposed) == decomposed


def test_whitespace_and_controls():
    text = "  a \t b\r\n\r\n\n\n c\x00d\x1b  \n"
    assert run(Normalize(), text) == "a b\n\ncd"
    assert run(Normalize(remove_controls=False, whitespace="strip"), "x\x07y ") == "x\x07y"


def test_invalid_utf8_policies():
    bad = "caf\udce9 ok"
    assert run(Normalize(invalid_utf8="replace"), bad) == "caf\ufffd ok"
    assert run(Normalize(invalid_utf8="strip"), bad) == "caf ok"
    assert run(Normalize(invalid_utf8="drop"), bad) == "invalid_utf8"
    with pytest.raises(ValueError, match="invalid UTF-8"):
        Normalize(invalid_utf8="error").process(Document("d", bad))
    step = Normalize()
    step.process(Document("d", bad))
    assert step.counters() == {"invalid_utf8_documents": 1}


def test_empty_after_normalize():
    assert run(Normalize(), " \n\t\x00 ") == "empty_after_normalize"


@given(st.text())
def test_normalize_output_is_clean(text):
    out = Normalize().process(Document("d", text))
    if isinstance(out, Drop):
        return
    assert out.text == out.text.strip() and out.text
    assert unicodedata.is_normalized("NFC", out.text)
    assert not any("\ud800" <= ch <= "\udfff" for ch in out.text)
    out.text.encode("utf-8")


def test_length_filter_reasons():
    f = LengthFilter(min_chars=5, max_chars=20, min_words=2, max_words=3)
    assert f.drop_reason(Document("d", "")) == "empty"
    assert f.drop_reason(Document("d", "abc")) == "too_short"
    assert f.drop_reason(Document("d", "x" * 21)) == "too_long"
    assert f.drop_reason(Document("d", "abcdef")) == "too_few_words"
    assert f.drop_reason(Document("d", "a b c d e")) == "too_many_words"
    assert f.drop_reason(Document("d", "ab cd ef")) is None
