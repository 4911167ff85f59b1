"""corpuskit.tokenizers: BPE, byte-level BPE, WordPiece and Unigram trainers and tokenizers.

Files are Hugging Face `tokenizer.json`: HF `tokenizers` and `transformers` load ours with the
same ids, and we load theirs. Names are imported lazily so `import corpuskit.tokenizers` is cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "Tokenizer": "corpuskit.tokenizers.tokenizer",
    "AddedToken": "corpuskit.tokenizers.tokenizer",
    "BPETrainer": "corpuskit.tokenizers.trainers",
    "ByteLevelBPETrainer": "corpuskit.tokenizers.trainers",
    "WordPieceTrainer": "corpuskit.tokenizers.trainers",
    "UnigramTrainer": "corpuskit.tokenizers.trainers",
    "TokenizerTrainer": "corpuskit.tokenizers.trainers",
    "WordCounts": "corpuskit.tokenizers.counts",
    "count_words": "corpuskit.tokenizers.counting",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'corpuskit.tokenizers' has no attribute {name!r}")
