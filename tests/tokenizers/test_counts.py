"""Counting as map → merge → train: WordCounts merge in any order, carry their config, round-trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpuskit.modelfile import ModelFileError, save_arrays
from corpuskit.tokenizers.counts import WordCounts
from corpuskit.tokenizers.trainers import BPEConfig, BPETrainer, ByteLevelBPETrainer, UnigramConfig, UnigramTrainer, WordPieceConfig, WordPieceTrainer
from corpuskit.trainer import CountsMismatchError, Trainer

MODELS = [(BPETrainer, 400), (ByteLevelBPETrainer, 400), (WordPieceTrainer, 500), (UnigramTrainer, 500)]


@pytest.mark.parametrize("cls,vocab_size", MODELS, ids=[c.name for c, _ in MODELS])
def test_shards_merged_in_any_order_give_a_byte_identical_tokenizer(cls: type, vocab_size: int, train_lines: list[str], tmp_path: Path) -> None:
    bounds = [0, 13, 70, 71, len(train_lines)]  # uneven shards, one of a single line
    shards = [train_lines[a:b] for a, b in zip(bounds, bounds[1:])]
    trainer = cls(vocab_size=vocab_size)
    parts = [trainer.count(iter(shard)) for shard in shards]
    left = ((parts[0].merge(parts[1])).merge(parts[2])).merge(parts[3])
    right = parts[3].merge(parts[1].merge(parts[2])).merge(parts[0])
    whole = trainer.count(iter(train_lines))
    assert left == right == whole and left.texts == len(train_lines)
    files = []
    for name, counts in [("left", left), ("right", right)]:
        counts.save(tmp_path / f"{name}.npz")
        cls(vocab_size=vocab_size).train_from_counts(WordCounts.load(tmp_path / f"{name}.npz")).save(tmp_path / f"{name}.json")
        files.append((tmp_path / f"{name}.json").read_bytes())
    cls(vocab_size=vocab_size).train(iter(train_lines)).save(tmp_path / "whole.json")
    assert files[0] == files[1] == (tmp_path / "whole.json").read_bytes()
    assert (tmp_path / "left.npz").read_bytes() == (tmp_path / "right.npz").read_bytes()


def test_training_never_mutates_the_config(train_lines: list[str]) -> None:
    config = BPEConfig(vocab_size=300, special_tokens=["<pad>"])
    trainer = BPETrainer(config)
    first = trainer.train(iter(train_lines[:50]))
    second = trainer.train(iter(train_lines[:50]))
    assert config.special_tokens == ["<pad>"] and trainer.config == config
    assert [t.content for t in first.added_tokens] == ["[UNK]", "<pad>"]
    assert first.to_hf() == second.to_hf()  # the second run sees the same config as the first
    for cls, cfg in [(WordPieceTrainer, WordPieceConfig(vocab_size=300, special_tokens=["[CLS]"])), (UnigramTrainer, UnigramConfig(vocab_size=300, special_tokens=["<s>"]))]:
        tok = cls(cfg).train(iter(train_lines[:50]))
        assert cfg.special_tokens == [cfg.special_tokens[0]] and len(tok.added_tokens) == 2


def test_counts_from_another_normalization_are_refused_and_equal_configs_share_counts(train_lines: list[str]) -> None:
    cased = BPETrainer(vocab_size=300).count(iter(train_lines[:20]))
    lower = BPETrainer(vocab_size=300, lowercase=True).count(iter(train_lines[:20]))
    with pytest.raises(CountsMismatchError, match="normalizer: None vs"):
        cased.merge(lower)
    with pytest.raises(CountsMismatchError, match="trainer 'bpe'.*normalizer"):
        BPETrainer(vocab_size=300).train_from_counts(lower)
    with pytest.raises(CountsMismatchError, match="pre_tokenizer"):
        ByteLevelBPETrainer(vocab_size=300).train_from_counts(cased)
    with pytest.raises(CountsMismatchError, match="special_tokens"):
        BPETrainer(vocab_size=300, special_tokens=["[UNK]", "<s>"]).train_from_counts(cased)
    # a BPE over Metaspace words with NFKC counts exactly what the Unigram trainer counts
    shared = BPETrainer(vocab_size=300, pre_tokenizer="metaspace", unicode_normalizer="NFKC", special_tokens=["<unk>"], unk_token="<unk>").count(iter(train_lines[:40]))
    unigram = UnigramTrainer(vocab_size=300)
    assert shared == unigram.count(iter(train_lines[:40]))
    assert unigram.train_from_counts(shared).vocab_size == 300


def test_word_counts_are_canonical_64_bit_and_round_trip(tmp_path: Path) -> None:
    config = BPETrainer().counting_config()
    a = WordCounts(config, {"zebra": 3 << 40, "ápple": 1, "中文": 2, "": 5, "gone": 0}, texts=2)
    b = WordCounts(config, {"中文": 1 << 62, "apple": 4}, texts=1)
    assert list(a) == ["zebra", "ápple", "中文"] and "" not in a and "gone" not in a  # code point order
    merged = a.merge(b)
    assert merged is not a and dict(a) == {"zebra": 3 << 40, "ápple": 1, "中文": 2}
    assert merged["中文"] == (1 << 62) + 2 and list(merged) == ["apple", "zebra", "ápple", "中文"] and merged.texts == 3
    merged.save(tmp_path / "c.npz")
    back = WordCounts.load(tmp_path / "c.npz")
    assert back == merged and dict(back) == dict(merged) and back.config == config
    with pytest.raises(ValueError, match="64-bit"):
        back.merge(WordCounts(config, {"中文": 1 << 62}))
    with pytest.raises(ValueError, match="non-negative"):
        WordCounts(config, {"a": -1})
    assert BPETrainer(vocab_size=60).train_from_counts({"hello": 5, "world": 2}).token_to_id("hello") is not None  # plain mappings still train


def test_inconsistent_counts_files_are_model_file_errors(tmp_path: Path) -> None:
    import numpy as np

    config = BPETrainer().counting_config()
    arrays = {"words_utf8": np.frombuffer(b"ba", np.uint8), "word_ends": np.array([1, 2]), "counts": np.array([1, 1])}
    save_arrays(tmp_path / "unsorted.npz", WordCounts.format, 1, arrays, {"config": config, "words": 2, "texts": 1})
    with pytest.raises(ModelFileError, match="unsorted.npz: expected a consistent corpuskit.word-counts file, found ValueError: words are not sorted"):
        WordCounts.load(tmp_path / "unsorted.npz")
    save_arrays(tmp_path / "short.npz", WordCounts.format, 1, {**arrays, "word_ends": np.array([1, 3])}, {"config": config, "words": 2, "texts": 1})
    with pytest.raises(ModelFileError, match="end offsets"):
        WordCounts.load(tmp_path / "short.npz")
    save_arrays(tmp_path / "other.npz", "corpuskit.ngram-counts", 1, arrays, {"config": config})
    with pytest.raises(ModelFileError, match="found format 'corpuskit.ngram-counts'"):
        WordCounts.load(tmp_path / "other.npz")


def test_trainers_are_registered_subclasses_with_checked_options() -> None:
    from corpuskit import registry
    from corpuskit.trainer import ParamError

    for cls in (BPETrainer, ByteLevelBPETrainer, WordPieceTrainer, UnigramTrainer):
        loaded = registry.load("trainers", cls.name)
        assert loaded is cls and issubclass(loaded, Trainer) and loaded.counts_class is WordCounts
    with pytest.raises(ParamError, match="trainer 'byte-bpe': option 'pre_tokenizer' must be one of 'gpt2', 'gpt4', got 'bert'"):
        ByteLevelBPETrainer(pre_tokenizer="bert")
    with pytest.raises(ParamError, match="unknown option 'character_coverage'"):
        BPETrainer(character_coverage=0.9)
    with pytest.raises(ParamError, match="vocab_size must be positive"):
        UnigramTrainer(vocab_size=0)
    with pytest.raises(ParamError, match="character_coverage must be in"):
        UnigramTrainer(character_coverage=1.5)
    with pytest.raises(ParamError, match="unicode_normalizer is not an option"):
        WordPieceTrainer(unicode_normalizer="NFC")
