"""Trainer plugins (`corpuskit.trainers`): bpe, byte-bpe, wordpiece, unigram.

Each trainer has a config dataclass, `train(texts) -> Tokenizer` (reads the stream once to count
words, then trains from the counts), `train_files(inputs)` for any format the core reads, and
`train_from_counts(counts)` for counts made elsewhere (keys are pre-tokenized words, in the
form the pre-tokenizer produces, e.g. 'Ġthe' for byte-level). Memory: O(distinct words).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from corpuskit.tokenizers.normalizers import BertNormalizer, Normalizer, build_normalizer
from corpuskit.tokenizers.pretokenizers import PreTokenizer, build_pretokenizer
from corpuskit.tokenizers.tokenizer import AddedToken, Tokenizer

log = logging.getLogger(__name__)


class _BaseTrainer(ABC):
    name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any = None, **options: Any) -> None:
        if config is not None and options:
            raise TypeError("pass either a config or keyword options, not both")
        self.config = config if config is not None else self.config_class(**options)
        if self.config.vocab_size < 1:
            raise ValueError(f"vocab_size must be positive, got {self.config.vocab_size}")
        self.stats: Counter = Counter()

    def normalizer(self) -> Normalizer | None:
        c = self.config
        return build_normalizer(c.unicode_normalizer, c.lowercase, c.strip_accents)

    def pre_tokenizer(self) -> PreTokenizer | None:
        return build_pretokenizer(self.config.pre_tokenizer)

    def count(self, corpus: Iterable[str], progress: bool = False) -> Counter:
        """Word counts of a stream of texts, with this trainer's normalizer and pre-tokenizer."""
        from corpuskit.tokenizers.counting import count_words

        return count_words(corpus, self.pre_tokenizer(), self.normalizer(), self.config.special_tokens, progress, self.stats)

    def train(self, corpus: Iterable[str], progress: bool = False) -> Tokenizer:
        """Train from a stream of texts (read once)."""
        return self.train_from_counts(self.count(corpus, progress))

    def train_files(self, inputs: Iterable[str] | str, progress: bool = False, **reader_options: Any) -> Tokenizer:
        """Train from files, globs, directories or pipeline output folders (any format the core reads)."""
        from corpuskit.readers import iter_texts

        return self.train(iter_texts(inputs if isinstance(inputs, str) else list(inputs), **reader_options), progress)

    def train_from_counts(self, word_counts: Mapping[str, int]) -> Tokenizer:
        """Train from precomputed counts of pre-tokenized words."""
        counts = {w: int(c) for w, c in word_counts.items() if c > 0 and w}
        if not counts:
            raise ValueError("no training text: the corpus produced no words")
        return self._fit(counts)

    @abstractmethod
    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        """Build the tokenizer from non-empty word counts."""

    def _added(self, vocab: Mapping[str, int]) -> list[AddedToken]:
        return [AddedToken(tok, vocab[tok]) for tok in self.config.special_tokens]


@dataclass
class BPEConfig:
    vocab_size: int = 30_000
    min_frequency: int = 0
    special_tokens: list[str] = field(default_factory=lambda: ["[UNK]"])
    unk_token: str | None = "[UNK]"
    limit_alphabet: int | None = None
    lowercase: bool = False
    strip_accents: bool = False
    unicode_normalizer: str | None = None  # NFC, NFKC, NFD, NFKD
    pre_tokenizer: str = "whitespace"  # whitespace, whitespace_split, bert, metaspace


class BPETrainer(_BaseTrainer):
    """Character-level BPE with an unknown token: chars outside the alphabet encode as `unk_token`."""

    name = "bpe"
    config_class = BPEConfig

    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        from corpuskit.tokenizers.bpe import BPEModel, train_bpe
        from corpuskit.tokenizers.decoders import MetaspaceDecoder

        c = self.config
        specials = list(c.special_tokens)
        if c.unk_token is not None and c.unk_token not in specials:
            specials.insert(0, c.unk_token)
            c.special_tokens = specials
        vocab, merges = train_bpe(counts, c.vocab_size, c.min_frequency, specials, c.limit_alphabet)
        model = BPEModel(vocab, merges, unk_token=c.unk_token)
        pre = self.pre_tokenizer()
        decoder = MetaspaceDecoder() if c.pre_tokenizer == "metaspace" else None
        return Tokenizer(model, self.normalizer(), pre, decoder, None, self._added(vocab))


@dataclass
class ByteLevelBPEConfig:
    vocab_size: int = 30_000
    min_frequency: int = 0
    special_tokens: list[str] = field(default_factory=lambda: ["<|endoftext|>"])
    lowercase: bool = False
    strip_accents: bool = False
    unicode_normalizer: str | None = None
    pre_tokenizer: str = "gpt2"  # gpt2 or gpt4 (regex split, then bytes)
    add_prefix_space: bool = False


class ByteLevelBPETrainer(_BaseTrainer):
    """Byte-level BPE (GPT-2): 256 byte symbols to start, so every string encodes, none unknown."""

    name = "byte-bpe"
    config_class = ByteLevelBPEConfig

    def pre_tokenizer(self) -> PreTokenizer:
        from corpuskit.tokenizers.pretokenizers import ByteLevel, Gpt4ByteLevel

        if self.config.pre_tokenizer == "gpt4":
            return Gpt4ByteLevel()
        if self.config.pre_tokenizer != "gpt2":
            raise ValueError(f"byte-bpe pre_tokenizer must be gpt2 or gpt4, got {self.config.pre_tokenizer!r}")
        return ByteLevel(add_prefix_space=self.config.add_prefix_space)

    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        from corpuskit.tokenizers.bpe import BPEModel, train_bpe
        from corpuskit.tokenizers.bytelevel import alphabet
        from corpuskit.tokenizers.decoders import ByteLevelDecoder
        from corpuskit.tokenizers.processors import PostProcessor

        c = self.config
        vocab, merges = train_bpe(counts, c.vocab_size, c.min_frequency, c.special_tokens, None, alphabet())
        model = BPEModel(vocab, merges)
        post = PostProcessor({"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}, [], [])
        return Tokenizer(model, self.normalizer(), self.pre_tokenizer(), ByteLevelDecoder(), post, self._added(vocab))


@dataclass
class WordPieceConfig:
    vocab_size: int = 30_000
    min_frequency: int = 0
    special_tokens: list[str] = field(default_factory=lambda: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    unk_token: str = "[UNK]"
    continuing_subword_prefix: str = "##"
    max_input_chars_per_word: int = 100
    criterion: str = "likelihood"  # likelihood: count(AB)/(count(A)count(B)); frequency: count(AB), as HF
    limit_alphabet: int | None = 1000
    lowercase: bool = True
    strip_accents: bool | None = None  # None: follow lowercase (BERT's rule)
    unicode_normalizer: str | None = None
    pre_tokenizer: str = "bert"


class WordPieceTrainer(_BaseTrainer):
    """WordPiece: merges ranked by count(AB) / (count(A) * count(B)); BERT normalizer and pre-tokenizer."""

    name = "wordpiece"
    config_class = WordPieceConfig

    def normalizer(self) -> Normalizer:
        c = self.config
        if c.unicode_normalizer:
            raise ValueError("wordpiece uses BERT's normalizer; unicode_normalizer is not an option")
        return BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=c.strip_accents, lowercase=c.lowercase)

    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        from corpuskit.tokenizers.decoders import WordPieceDecoder
        from corpuskit.tokenizers.wordpiece import WordPieceModel, train_wordpiece

        c = self.config
        if c.unk_token not in c.special_tokens:
            c.special_tokens = [c.unk_token] + list(c.special_tokens)
        vocab = train_wordpiece(counts, c.vocab_size, c.min_frequency, c.special_tokens, c.limit_alphabet, c.continuing_subword_prefix, c.max_input_chars_per_word, c.criterion)
        model = WordPieceModel(vocab, c.unk_token, c.continuing_subword_prefix, c.max_input_chars_per_word)
        decoder = WordPieceDecoder(c.continuing_subword_prefix, cleanup=True)
        return Tokenizer(model, self.normalizer(), self.pre_tokenizer(), decoder, None, self._added(vocab))


@dataclass
class UnigramConfig:
    vocab_size: int = 8_000
    special_tokens: list[str] = field(default_factory=lambda: ["<unk>"])
    unk_token: str = "<unk>"
    byte_fallback: bool = False
    max_piece_length: int = 16
    seed_size: int = 1_000_000
    shrinking_factor: float = 0.75
    em_iterations: int = 2
    split_by_unicode_script: bool = True  # SentencePiece's defaults: one script per piece,
    split_by_number: bool = True  # digits not joined to letters,
    split_digits: bool = False  # but runs of digits allowed
    character_coverage: float = 0.9995  # SentencePiece's default; 1.0 gives every character a piece
    lowercase: bool = False
    strip_accents: bool = False
    unicode_normalizer: str | None = "NFKC"
    pre_tokenizer: str = "metaspace"


class UnigramTrainer(_BaseTrainer):
    """SentencePiece-style unigram LM: seed substrings, EM, prune by likelihood loss; '▁' marks spaces."""

    name = "unigram"
    config_class = UnigramConfig

    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        from corpuskit.tokenizers.decoders import ByteFallbackDecoder, FuseDecoder, MetaspaceDecoder, SequenceDecoder
        from corpuskit.tokenizers.unigram import UnigramModel, train_unigram

        c = self.config
        if c.unk_token not in c.special_tokens:
            c.special_tokens = [c.unk_token] + list(c.special_tokens)
        pieces = train_unigram(counts, c.vocab_size, c.special_tokens, c.max_piece_length, c.seed_size, c.shrinking_factor, c.em_iterations, c.byte_fallback, c.split_by_unicode_script, c.split_by_number, c.split_digits, c.character_coverage)
        vocab = {p: i for i, (p, _) in enumerate(pieces)}
        model = UnigramModel(pieces, vocab[c.unk_token], c.byte_fallback)
        decoder: Any = MetaspaceDecoder()
        if c.byte_fallback:
            decoder = SequenceDecoder([ByteFallbackDecoder(), FuseDecoder(), MetaspaceDecoder()])
        return Tokenizer(model, self.normalizer(), self.pre_tokenizer(), decoder, None, self._added(vocab))


TRAINERS: dict[str, type[_BaseTrainer]] = {t.name: t for t in (BPETrainer, ByteLevelBPETrainer, WordPieceTrainer, UnigramTrainer)}

