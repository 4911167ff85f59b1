"""Tokenizer behaviour: round trips, special tokens, offsets, bad input, training inputs, protocol."""

from __future__ import annotations

import gzip
import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.tokenizers.tokenizer import Tokenizer
from corpuskit.tokenizers.trainers import BPETrainer, ByteLevelBPETrainer, UnigramTrainer, WordPieceTrainer

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
# HF's Unicode tables differ from Python's for recently assigned characters: compare with HF on
# characters already assigned in Unicode 3.2 (Python ships that database too), plus emoji
_OLD_CHARS = st.characters(blacklist_categories=("Cs",), max_codepoint=0xFFFF).filter(lambda c: unicodedata.ucd_3_2_0.category(c) != "Cn")
HF_TEXT = st.text(st.one_of(_OLD_CHARS, st.sampled_from("😀🚀🦓𝔘")), max_size=60)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(text=TEXT)
def test_byte_level_round_trip_on_any_text(trained: dict, text: str) -> None:
    tok = trained["byte-bpe"]
    assert tok.decode(tok.encode(text)) == text


@SETTINGS
@given(text=HF_TEXT)
def test_every_model_encodes_any_text_like_hf(trained: dict, text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    for name, tok in trained.items():
        hf = HFTokenizer.from_str(json.dumps(tok.to_hf()))
        ids = tok.encode(text)
        assert ids == hf.encode(text).ids, (name, text)
        assert tok.decode(ids) == hf.decode(ids), (name, text)


@SETTINGS
@given(text=st.text(st.sampled_from("abcdefghij klmno,.中文"), max_size=50))
def test_unigram_decode_restores_text(trained: dict, text: str) -> None:
    """Metaspace keeps every space; only a leading space is lost (the prepended '▁' absorbs it, as in HF)."""
    uni = trained["unigram"]
    assert uni.decode(uni.encode(text)) == (text[1:] if text.startswith(" ") else text)


def test_special_tokens_are_never_split(trained: dict) -> None:
    tok = trained["byte-bpe"]
    eot = tok.token_to_id("<|endoftext|>")
    ids = tok.encode("first<|endoftext|>second <|endoftext|>")
    assert ids.count(eot) == 2
    assert tok.decode(ids) == "firstsecond "
    assert tok.decode(ids, skip_special_tokens=False) == "first<|endoftext|>second <|endoftext|>"
    bert = trained["wordpiece"]
    assert bert.encode("[MASK] paris") [0] == bert.token_to_id("[MASK]")


def test_offsets_point_into_the_original_text(trained: dict) -> None:
    text = "Héllo wörld, 中文 text!  Ünïcode"
    for name, tok in trained.items():
        spans = tok.encode_with_offsets(text)
        assert [i for i, _, _ in spans] == tok.encode(text, add_special_tokens=False)
        for tid, start, end in spans:
            assert 0 <= start <= end <= len(text)
        starts = [s for _, s, _ in spans]
        assert starts == sorted(starts), name
        covered = {i for _, s, e in spans for i in range(s, e)}
        assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered, name
        if name == "bpe":  # character level: spans tile the words exactly
            assert "".join(text[s:e] for _, s, e in spans) == text.replace(" ", "")


def test_byte_level_offsets_cover_partial_characters(trained: dict) -> None:
    tok = trained["byte-bpe"]
    text = "a😀b"
    spans = tok.encode_with_offsets(text)
    assert spans[0][1:] == (0, 1)
    assert all(text[s:e] in ("a", "😀", "b", "😀b", "a😀") for _, s, e in spans if e > s)


def test_lone_surrogate_is_a_clear_error_and_nul_encodes(trained: dict) -> None:
    tok = trained["byte-bpe"]
    with pytest.raises(ValueError, match="surrogate.*index 2"):
        tok.encode("ab\ud800c")
    assert tok.decode(tok.encode("a\x00b")) == "a\x00b"


def test_training_replaces_surrogates_and_counts_them() -> None:
    trainer = ByteLevelBPETrainer(vocab_size=300)
    tok = trainer.train(iter(["abc \udcff def", "abc"]))
    assert trainer.stats["surrogates_replaced"] == 1
    assert tok.decode(tok.encode("abc")) == "abc"


def test_empty_training_input_is_an_error() -> None:
    for cls in (BPETrainer, ByteLevelBPETrainer, WordPieceTrainer, UnigramTrainer):
        with pytest.raises(ValueError, match="no training text"):
            cls(vocab_size=500).train(iter(["", ""]))
        with pytest.raises(ValueError, match="no training text"):
            cls(vocab_size=500).train(iter([]))


def test_vocab_size_below_alphabet_is_an_error(train_lines: list[str]) -> None:
    with pytest.raises(ValueError, match="smaller than"):
        ByteLevelBPETrainer(vocab_size=100).train(iter(train_lines))
    with pytest.raises(ValueError, match="smaller than"):
        BPETrainer(vocab_size=10).train(iter(train_lines))
    with pytest.raises(ValueError, match="smaller than"):
        UnigramTrainer(vocab_size=20).train(iter(train_lines))
    small = BPETrainer(vocab_size=40, limit_alphabet=30).train(iter(train_lines))
    assert small.vocab_size == 40
    assert small.encode("中")[0] == small.token_to_id("[UNK]")


def test_malformed_and_unknown_files_are_model_file_errors(tmp_path: Path) -> None:
    from corpuskit.modelfile import ModelFileError

    def error(name: str, content: str) -> str:
        path = tmp_path / name
        path.write_text(content)
        with pytest.raises(ModelFileError) as info:
            Tokenizer.load(path)
        assert str(info.value).startswith(f"{path}: expected a tokenizer.json")
        return str(info.value)

    assert "found malformed JSON at line 3" in error("bad.json", '{\n  "model": {\n  oops }')
    assert "found malformed JSON at line 1" in error("empty.json", "")
    assert "found model: unsupported model type 'WordLevel'" in error("wordlevel.json", json.dumps({"model": {"type": "WordLevel", "vocab": {}}}))
    assert "found a JSON list without a 'model' object" in error("nomodel.json", "[1, 2]")
    assert "missing from the vocabulary" in error("badmerge.json", json.dumps({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}))
    assert "found pre_tokenizer: unsupported pre-tokenizer type 'Digits'" in error("badpre.json", json.dumps({"pre_tokenizer": {"type": "Digits"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}))
    assert "a malformed part (TypeError" in error("badvocab.json", json.dumps({"model": {"type": "BPE", "vocab": 7, "merges": []}}))
    with pytest.raises(ModelFileError, match="no such file"):
        Tokenizer.load(tmp_path / "absent.json")
    merges = tmp_path / "merges.txt"
    merges.write_text("#version: 0.2\na b c\n")
    (tmp_path / "vocab.json").write_text(json.dumps({"a": 0, "b": 1}))
    with pytest.raises(ModelFileError, match="merges.txt: expected a merges.txt .* found line 2: 'a b c'"):
        Tokenizer.from_vocab_merges(tmp_path / "vocab.json", merges)


def test_unknown_id_in_decode_is_an_error(trained: dict) -> None:
    with pytest.raises(KeyError, match="id 999999"):
        trained["bpe"].decode([1, 999999])


def test_chinese_text(trained: dict, chinese_lines: list[str], train_lines: list[str]) -> None:
    text = "我们今天去北京大学参加会议。"
    byte_tok = ByteLevelBPETrainer(vocab_size=420).train(iter(chinese_lines * 3))
    ids = byte_tok.encode(text)
    assert byte_tok.decode(ids) == text
    assert len(ids) < len(text.encode("utf-8")) / 2  # merges learned inside unspaced Chinese
    assert trained["byte-bpe"].decode(trained["byte-bpe"].encode(text)) == text
    # SentencePiece's default character coverage (0.9995) leaves characters this rare in a
    # mostly English corpus without a piece: they encode as <unk>; coverage 1.0 keeps them all
    uni = trained["unigram"]
    assert uni.token_to_id("<unk>") in uni.encode(text)
    uni_all = UnigramTrainer(vocab_size=900, character_coverage=1.0).train(iter(train_lines))
    pieces = uni_all.tokenize(text)
    assert pieces[0].startswith("▁") and uni_all.decode(uni_all.encode(text)) == text
    uni_zh = UnigramTrainer(vocab_size=300).train(iter(chinese_lines))
    assert "论文" in uni_zh.tokenize("他发表了论文")  # the raw string, no spaces needed
    wp = trained["wordpiece"]
    assert wp.token_to_id("[UNK]") not in wp.encode(text)  # each ideograph is its own word


def test_encode_batch_matches_encode(trained: dict, heldout_lines: list[str]) -> None:
    for tok in trained.values():
        assert tok.encode_batch(heldout_lines * 3, workers=2) == [tok.encode(t) for t in heldout_lines * 3]


def test_token_id_lookups_and_vocab_size(trained: dict) -> None:
    for tok in trained.values():
        vocab = tok.get_vocab()
        assert len(vocab) == tok.vocab_size
        for token, tid in list(vocab.items())[:50]:
            assert tok.token_to_id(token) == tid and tok.id_to_token(tid) == token
        assert tok.token_to_id("certainly-not-a-token-xyz") is None


def test_unigram_sampling_is_seeded_and_valid(trained: dict) -> None:
    uni = trained["unigram"].model
    word = "▁international"
    draws = [tuple(uni.sample_word(word, 0.1, np.random.default_rng(s))) for s in range(30)]
    assert draws[3] == tuple(uni.sample_word(word, 0.1, np.random.default_rng(3)))
    assert len(set(draws)) > 1
    for ids in draws:
        assert "".join(uni.id_to_token[i] for i in ids) == word


def test_encode_sampled_is_seeded(trained: dict) -> None:
    uni = trained["unigram"]
    text = "international relations between governments"
    draws = {tuple(uni.encode_sampled(text, alpha=0.1, seed=s)) for s in range(20)}
    assert len(draws) > 1
    assert uni.encode_sampled(text, seed=5) == uni.encode_sampled(text, seed=5)
    assert all(uni.decode(list(d)) == text for d in draws)
    with pytest.raises(ValueError, match="Unigram"):
        trained["bpe"].encode_sampled(text)


def test_unigram_byte_fallback(train_lines: list[str]) -> None:
    tok = UnigramTrainer(vocab_size=900, byte_fallback=True).train(iter(train_lines))
    ids = tok.encode("zebra 🦓")
    assert tok.token_to_id("<0xF0>") in ids and tok.token_to_id("<unk>") not in ids
    assert tok.decode(ids) == "zebra 🦓"


def test_train_from_counts_equals_train(train_lines: list[str]) -> None:
    trainer = BPETrainer(vocab_size=500)
    counts = trainer.count(iter(train_lines))
    assert BPETrainer(vocab_size=500).train_from_counts(counts).model.merges == BPETrainer(vocab_size=500).train(iter(train_lines)).model.merges


def test_train_files_reads_text_jsonl_and_pipeline_output(train_lines: list[str], tmp_path: Path) -> None:
    from corpuskit.writers import write_manifest
    from corpuskit.writers.jsonl import JsonlWriter
    from corpuskit.document import Document

    txt = tmp_path / "a.txt"
    txt.write_text("\n".join(train_lines[:100]) + "\n")
    jl = tmp_path / "b.jsonl.gz"
    with gzip.open(jl, "wt") as handle:
        for i, line in enumerate(train_lines[100:]):
            handle.write(json.dumps({"id": str(i), "content": line}) + "\n")
    from_files = ByteLevelBPETrainer(vocab_size=400).train_files([str(txt), str(jl)], text_field="content")
    from_iter = ByteLevelBPETrainer(vocab_size=400).train(iter(train_lines))
    assert from_files.model.merges == from_iter.model.merges
    out = tmp_path / "run"
    files = JsonlWriter(compression="gz").write_all((Document(str(i), t, {}) for i, t in enumerate(train_lines)), out, "part")
    write_manifest(out, files)
    from_dir = ByteLevelBPETrainer(vocab_size=400).train_files(str(out))
    assert from_dir.model.merges == from_iter.model.merges


def test_normalizer_options(train_lines: list[str]) -> None:
    tok = BPETrainer(vocab_size=400, lowercase=True, strip_accents=True, unicode_normalizer="NFC").train(iter(train_lines))
    assert tok.encode("CAFÉ") == tok.encode("cafe")
    assert tok.to_hf()["normalizer"]["type"] == "Sequence"


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_bert_normalizer_fast_path_matches_reference(text: str) -> None:
    from corpuskit.tokenizers.normalizers import BertNormalizer

    for options in [dict(), dict(lowercase=False), dict(strip_accents=True, lowercase=False), dict(clean_text=False, handle_chinese_chars=False)]:
        norm = BertNormalizer(**options)
        assert norm.normalize(text) == norm.normalize_reference(text)


def test_unigram_pieces_follow_sentencepiece_rules(trained: dict) -> None:
    """Default Unigram training seeds only pieces SentencePiece allows: one script each, '▁' first."""
    from corpuskit.tokenizers.scripts import is_valid_piece, script_classes

    pieces = [p for p, _ in trained["unigram"].model.to_hf()["vocab"] if p != "<unk>"]
    classes = script_classes("".join(pieces))
    assert all(is_valid_piece(p, classes) for p in pieces)
    assert any(not ch.isalpha() for p in pieces for ch in p if ch != "▁")  # punctuation pieces exist too
