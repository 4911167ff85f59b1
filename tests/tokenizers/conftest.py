"""Shared fixtures: a small English corpus shipped with gensim, and our own Chinese sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CHINESE = [
    "我们今天去北京大学参加一个关于自然语言处理的会议。",
    "这个模型在中文和英文混合的文本上表现很好，例如 GPT-4 和 BERT。",
    "天气预报说明天会下雨，所以请记得带伞。",
    "他在2023年发表了三篇论文，其中一篇获得了最佳论文奖。",
    "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。",
    "上海是中国最大的城市之一，人口超过两千四百万。",
    "请把这份文件发送到我的邮箱：test@example.com，谢谢！",
    "东京和大阪都是日本的重要城市。日本語の文章も少し含まれています。",
]


def _gensim_data(name: str) -> Path:
    spec = importlib.util.find_spec("gensim")
    assert spec is not None and spec.submodule_search_locations, "gensim must be installed"
    return Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data" / name


@pytest.fixture(scope="session")
def english_lines() -> list[str]:
    """About 300 English news paragraphs (gensim's lee_background.cor)."""
    lines = _gensim_data("lee_background.cor").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


@pytest.fixture(scope="session")
def train_lines(english_lines: list[str]) -> list[str]:
    return english_lines[:200] + CHINESE[:6]


@pytest.fixture(scope="session")
def heldout_lines(english_lines: list[str]) -> list[str]:
    extra = [
        "Hello, World! It's 3:45pm — naïve café déjà vu.",
        "  leading and   multiple   spaces\tand tabs\nnewline ",
        "Emoji 😀🚀 and symbols ©®™ ∑∫ and accents ÀÉÎÕÜ",
        "",
        "x",
        "[UNK] <unk> [CLS] special-looking text",
    ]
    return english_lines[200:260] + CHINESE[6:] + extra


@pytest.fixture(scope="session")
def trained(train_lines: list[str]) -> dict:
    """One small tokenizer per model, trained once per session."""
    from corpuskit.tokenizers.trainers import BPETrainer, ByteLevelBPETrainer, UnigramTrainer, WordPieceTrainer

    return {
        "bpe": BPETrainer(vocab_size=600).train(iter(train_lines)),
        "byte-bpe": ByteLevelBPETrainer(vocab_size=600).train(iter(train_lines)),
        "wordpiece": WordPieceTrainer(vocab_size=800).train(iter(train_lines)),
        "unigram": UnigramTrainer(vocab_size=900).train(iter(train_lines)),
    }


@pytest.fixture(scope="session")
def chinese_lines() -> list[str]:
    return list(CHINESE)
