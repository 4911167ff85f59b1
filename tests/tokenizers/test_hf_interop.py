"""Hugging Face interop: HF loads our tokenizer.json with identical ids, and we load theirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpuskit.tokenizers.tokenizer import Tokenizer

MODELS = ["bpe", "byte-bpe", "wordpiece", "unigram"]


@pytest.mark.parametrize("model", MODELS)
def test_hf_loads_our_files_with_identical_ids(model: str, trained: dict, heldout_lines: list[str], tmp_path: Path) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    ours = trained[model]
    path = tmp_path / "tokenizer.json"
    ours.save(path)
    hf = HFTokenizer.from_file(str(path))
    for line in heldout_lines:
        assert hf.encode(line).ids == ours.encode(line), line
    assert hf.get_vocab_size() == ours.vocab_size
    reloaded = Tokenizer.load(path)
    assert all(reloaded.encode(line) == ours.encode(line) for line in heldout_lines)


@pytest.mark.parametrize("model", MODELS)
def test_transformers_fast_tokenizer_loads_our_files(model: str, trained: dict, heldout_lines: list[str], tmp_path: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    ours = trained[model]
    path = tmp_path / "tokenizer.json"
    ours.save(path)
    fast = PreTrainedTokenizerFast(tokenizer_file=str(path))
    for line in heldout_lines[:20] + heldout_lines[-8:]:
        assert fast(line)["input_ids"] == ours.encode(line)


def _hf_trained(kind: str, lines: list[str]):
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

    if kind == "bpe":
        tok = HFTokenizer(models.BPE(unk_token="[UNK]"))
        tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["[UNK]", "[PAD]"], show_progress=False)
    elif kind == "byte-bpe":
        tok = HFTokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=True)
        trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    elif kind == "wordpiece":
        tok = HFTokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=600, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
    else:
        tok = HFTokenizer(models.Unigram())
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=600, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    if kind == "wordpiece":
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


@pytest.mark.parametrize("model", MODELS)
def test_we_load_hf_trained_files_with_identical_ids(model: str, train_lines: list[str], heldout_lines: list[str], tmp_path: Path) -> None:
    hf = _hf_trained(model, train_lines)
    path = tmp_path / "hf.json"
    hf.save(str(path))
    ours = Tokenizer.load(path)
    for line in heldout_lines:
        assert ours.encode(line) == hf.encode(line).ids, line
        ids = hf.encode(line).ids
        assert ours.decode(ids) == hf.decode(ids), line


def test_bpe_training_reproduces_hf_merges(train_lines: list[str]) -> None:
    """Same counts, same tie rule: our char-level BPE learns exactly HF's merges and vocabulary."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    from corpuskit.tokenizers.trainers import BPETrainer

    hf = HFTokenizer(models.BPE(unk_token="[UNK]"))
    hf.pre_tokenizer = pre_tokenizers.Whitespace()
    hf.train_from_iterator(train_lines, trainer=trainers.BpeTrainer(vocab_size=700, special_tokens=["[UNK]"], show_progress=False))
    ours = BPETrainer(vocab_size=700).train(iter(train_lines))
    theirs = json.loads(hf.to_str())["model"]
    assert [tuple(m) for m in theirs["merges"]] == ours.model.merges
    assert theirs["vocab"] == ours.model.vocab


def test_byte_level_training_reproduces_hf_merges(train_lines: list[str]) -> None:
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    from corpuskit.tokenizers.trainers import ByteLevelBPETrainer

    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    hf.train_from_iterator(train_lines, trainer=trainer)
    ours = ByteLevelBPETrainer(vocab_size=700).train(iter(train_lines))
    theirs = json.loads(hf.to_str())["model"]
    assert [tuple(m) for m in theirs["merges"]] == ours.model.merges


def test_tiktoken_agrees_on_byte_level_ids(trained: dict, heldout_lines: list[str]) -> None:
    import tiktoken

    from corpuskit.tokenizers.bytelevel import chars_to_bytes
    from corpuskit.tokenizers.pretokenizers import GPT2_PATTERN

    tok = trained["byte-bpe"]
    ranks = {chars_to_bytes(t): i for t, i in tok.model.vocab.items() if chars_to_bytes(t) is not None}
    enc = tiktoken.Encoding("ours", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens={})
    for line in heldout_lines:
        assert enc.encode_ordinary(line) == tok.encode(line)


def test_vocab_merges_files_round_trip(trained: dict, heldout_lines: list[str], tmp_path: Path) -> None:
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers

    tok = trained["byte-bpe"]
    vocab_path, merges_path = tok.save_vocab_merges(tmp_path)
    assert merges_path.read_text().startswith("#version")
    again = Tokenizer.from_vocab_merges(vocab_path, merges_path)
    hf = HFTokenizer(models.BPE.from_file(str(vocab_path), str(merges_path)))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    for line in heldout_lines:
        assert again.encode(line) == tok.encode(line) == hf.encode(line).ids


def test_we_load_llama_and_roberta_style_files(train_lines: list[str], heldout_lines: list[str], tmp_path: Path) -> None:
    """Byte fallback + Prepend/Replace normalizers + decoder chains (Llama), and RoBERTa's processor."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

    llama = HFTokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    llama.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    llama.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    llama.train_from_iterator(train_lines, trainer=trainers.BpeTrainer(vocab_size=700, special_tokens=specials, show_progress=False))
    llama.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    roberta = HFTokenizer(models.BPE())
    roberta.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    roberta.decoder = decoders.ByteLevel()
    roberta.train_from_iterator(train_lines, trainer=trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    roberta.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    for name, hf in (("llama", llama), ("roberta", roberta)):
        path = tmp_path / f"{name}.json"
        hf.save(str(path))
        ours = Tokenizer.load(path)
        texts = heldout_lines + ["emoji 😀 never seen", "  two  spaces "]
        assert ours.encode_batch(texts) == [hf.encode(t).ids for t in texts], name
        for t in texts:
            ids = hf.encode(t).ids
            assert ours.decode(ids) == hf.decode(ids), (name, t)
