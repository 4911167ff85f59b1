"""Parity with HF on every BMP code point (WordPiece's BERT normalizer and split), and special
tokens encoded as text on request (`split_special_tokens`, HF's `encode_special_tokens`)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.tokenizers import hf_unicode
from corpuskit.tokenizers.tokenizer import Tokenizer

BMP = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000]


# alone with lowercase (cleaning, accents, lowercase), and inside a word without (the punctuation split)
@pytest.mark.parametrize("lowercase,template", [(True, "{}"), (False, "ab{}cd")])
def test_wordpiece_agrees_with_hf_on_every_bmp_code_point(trained: dict, lowercase: bool, template: str) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    obj = trained["wordpiece"].to_hf()
    obj["normalizer"]["lowercase"] = lowercase  # strip_accents follows lowercase
    ours, hf = Tokenizer.from_hf(obj), HFTokenizer.from_str(json.dumps(obj))
    texts = [template.format(ch) for ch in BMP]
    theirs = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    mine = ours.encode_batch(texts, add_special_tokens=False)
    differ = [f"U+{ord(ch):04X}" for ch, a, b in zip(BMP, mine, theirs) if a != b]
    assert not differ, f"{len(differ)} code points differ ({template!r}, lowercase={lowercase}): {differ[:20]}"


def test_hf_tables_hold_sorted_disjoint_ranges() -> None:
    for ranges in (hf_unicode.CONTROL, hf_unicode.NONSPACING, hf_unicode.PUNCTUATION):
        assert all(a <= b for a, b in ranges)
        assert all(ranges[i][1] < ranges[i + 1][0] - 1 for i in range(len(ranges) - 1))  # merged and sorted
        points = set(hf_unicode.code_points(ranges))
        for cp in (0, 0x21, 0x61D, 0x300, 0xFFFF, 0x10FFFF, ranges[0][0], ranges[-1][1]):
            assert hf_unicode.contains(ranges, cp) == (cp in points)
    assert hf_unicode.contains(hf_unicode.PUNCTUATION, ord("!")) and not hf_unicode.contains(hf_unicode.PUNCTUATION, 0x61D)


SPECIAL = "<|endoftext|>"
TEXT_WITH_SPECIALS = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), st.just(SPECIAL), st.just("<|endo")), max_size=6).map("".join)


@pytest.fixture(scope="module")
def byte_bpe_with_special(train_lines: list[str]) -> Tokenizer:
    from corpuskit.tokenizers.trainers import ByteLevelBPETrainer

    return ByteLevelBPETrainer(vocab_size=400, special_tokens=[SPECIAL]).train(iter(train_lines[:80]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT_WITH_SPECIALS)
def test_split_special_tokens_round_trips_every_string_and_matches_hf(byte_bpe_with_special: Tokenizer, text: str) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    tok = byte_bpe_with_special
    ids = tok.encode(text, split_special_tokens=True)
    assert tok.decode(ids) == text
    assert tok.token_to_id(SPECIAL) not in ids
    assert tok.encode_batch([text, "plain"], split_special_tokens=True)[0] == ids
    hf = HFTokenizer.from_str(json.dumps(tok.to_hf()))
    hf.encode_special_tokens = True
    assert hf.encode(text, add_special_tokens=False).ids == tok.encode(text, add_special_tokens=False, split_special_tokens=True)
    hf.encode_special_tokens = False
    assert hf.encode(text, add_special_tokens=False).ids == tok.encode(text, add_special_tokens=False)


def test_by_default_a_special_tokens_text_is_that_token(byte_bpe_with_special: Tokenizer) -> None:
    tok = byte_bpe_with_special
    special_id = tok.token_to_id(SPECIAL)
    assert special_id in tok.encode(f"a{SPECIAL}b") and tok.encode_batch([f"a{SPECIAL}b"])[0] == tok.encode(f"a{SPECIAL}b")
    assert tok.decode(tok.encode(f"a{SPECIAL}b")) == "ab"  # why the default does not round-trip


def test_training_counts_split_like_encoding_on_punctuation_hf_and_python_disagree_on() -> None:
    from collections import Counter

    from corpuskit.tokenizers.fast_bytelevel import MODE_BERT, count_split_pieces
    from corpuskit.tokenizers.pretokenizers import BertPreTokenizer

    texts = ["ab\u061dcd x\u166dy \u2e43z!", "\u1b7d\u1b7e q\u00a1r"]  # new in Unicode 9-14; Po -> So; old
    expected = dict(Counter(p for t in texts for p in BertPreTokenizer().split(t)))
    assert count_split_pieces(texts, MODE_BERT) == expected
    assert "ab\u061dcd" in expected and "\u166d" in expected and "\u00a1" in expected
