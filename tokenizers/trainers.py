"""Trainer plugins (`corpuskit.trainers`): bpe, byte-bpe, wordpiece, unigram.

Training is count → merge → train: `count(texts) -> WordCounts` (normalize, cut out special tokens,
pre-tokenize, count words) runs on any shard; `WordCounts.merge` adds shards in any order with the
same result; `train_from_counts(counts) -> Tokenizer` learns the vocabulary. `train(texts)` is
their composition, `train_files(inputs)` reads any format the core reads. Counts carry their
counting config (normalizer, pre-tokenizer, special tokens), so counts made for another
normalization are refused. Memory: O(distinct words).
"""

from __future__ import annotations

from abc import abstractmethod

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from corpuskit.tokenizers.counts import WordCounts
from corpuskit.tokenizers.normalizers import BertNormalizer, Normalizer, build_normalizer
from corpuskit.tokenizers.pretokenizers import PreTokenizer, build_pretokenizer
from corpuskit.tokenizers.tokenizer import AddedToken, Tokenizer
from corpuskit.trainer import ParamError, Trainer

log = logging.getLogger(__name__)

UnicodeForm = Literal["NFC", "NFKC", "NFD", "NFKD"]
WordSplit = Literal["whitespace", "whitespace_split", "bert", "metaspace"]


class TokenizerTrainer(Trainer):
    """What the four tokenizer trainers share: word counting, its config, checks, the added tokens.

    `stats` counts the texts read and the lone surrogates replaced, over every `count` call.
    """

    counts_class = WordCounts

    def __init__(self, config: Any = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.stats: Counter = Counter()

    def validate_config(self) -> None:
        if self.config.vocab_size < 1:
            raise ParamError(f"trainer {self.name!r}: vocab_size must be positive, got {self.config.vocab_size}")
        if getattr(self.config, "min_frequency", 0) < 0:
            raise ParamError(f"trainer {self.name!r}: min_frequency must be >= 0, got {self.config.min_frequency}")

    def normalizer(self) -> Normalizer | None:
        c = self.config
        return build_normalizer(c.unicode_normalizer, c.lowercase, c.strip_accents)

    def pre_tokenizer(self) -> PreTokenizer | None:
        return build_pretokenizer(self.config.pre_tokenizer)

    def counting_config(self) -> dict[str, Any]:
        """What decides the word counts: the normalizer and pre-tokenizer (as tokenizer.json writes
        them) and the special tokens cut out of the text. Trainers that agree on these share counts."""
        normalizer, pre_tokenizer = self.normalizer(), self.pre_tokenizer()
        return {
            "normalizer": normalizer.to_hf() if normalizer is not None else None,
            "pre_tokenizer": pre_tokenizer.to_hf() if pre_tokenizer is not None else None,
            "special_tokens": sorted(set(self.config.special_tokens)),
        }

    def count(self, texts: Iterable[str], progress: bool = False) -> WordCounts:
        """Word counts of a stream of texts (read once), with this trainer's normalizer and pre-tokenizer."""
        return super().count(texts, progress)  # type: ignore[return-value]

    def train(self, corpus: Iterable[str], progress: bool = False) -> Tokenizer:
        """Train from a stream of texts (read once): `train_from_counts(count(corpus))`."""
        return super().train(corpus, progress)  # type: ignore[return-value]

    def train_files(self, inputs: Iterable[str] | str, progress: bool = False, **reader_options: Any) -> Tokenizer:
        """Train from files, globs, directories or pipeline output folders (any format the core reads)."""
        from corpuskit.readers import iter_texts

        return self.train(iter_texts(inputs if isinstance(inputs, str) else list(inputs), **reader_options), progress)

    def train_from_counts(self, counts: WordCounts | Mapping[str, int], corpus: Iterable[str] | None = None) -> Tokenizer:
        """Train from (merged) WordCounts; a plain {word: count} mapping is taken as counted under this config."""
        if not isinstance(counts, WordCounts) and isinstance(counts, Mapping):
            counts = WordCounts(self.counting_config(), counts)
        return super().train_from_counts(counts, corpus)  # type: ignore[return-value]

    def _count(self, texts: Iterable[str], progress: bool) -> WordCounts:
        from corpuskit.tokenizers.counting import count_words

        before = self.stats["texts"]
        words = count_words(texts, self.pre_tokenizer(), self.normalizer(), self.config.special_tokens, progress, self.stats)
        return WordCounts(self.counting_config(), words, texts=self.stats["texts"] - before)

    def _train_from_counts(self, counts: WordCounts, corpus: Iterable[str] | None) -> Tokenizer:  # type: ignore[override]
        if not counts:
            raise ValueError("no training text: the corpus produced no words")
        return self._fit(counts.as_dict())

    @abstractmethod
    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        """Build the tokenizer from non-empty word counts, in canonical (sorted) order; read-only."""

    def _specials(self, unk_token: str | None) -> list[str]:
        """The special tokens with the unknown token first when the config lacks it (a new list)."""
        specials = list(self.config.special_tokens)
        if unk_token is not None and unk_token not in specials:
            specials.insert(0, unk_token)
        return specials

    @staticmethod
    def _added(vocab: Mapping[str, int], specials: list[str]) -> list[AddedToken]:
        return [AddedToken(tok, vocab[tok]) for tok in specials]


@dataclass
class BPEConfig:
    """Options of the `bpe` trainer (character-level BPE with an unknown token).

    vocab_size: tokens in the vocabulary, special tokens and alphabet included
    min_frequency: pairs occurring fewer times are never merged
    special_tokens: added to the vocabulary first, matched in raw text first, never split
    lowercase: lowercase the text before counting and encoding
    strip_accents: remove accents (NFD, then drop combining marks)
    unicode_normalizer: Unicode normal form applied first (none: keep the text as is)
    unk_token: token for characters outside the alphabet (added to the special tokens if missing)
    limit_alphabet: keep only the most frequent characters (the rest encode as unk_token)
    pre_tokenizer: how text splits into words before merges
    """

    vocab_size: int = 30_000
    min_frequency: int = 0
    special_tokens: list[str] = field(default_factory=lambda: ["[UNK]"])
    unk_token: str | None = "[UNK]"
    limit_alphabet: int | None = None
    lowercase: bool = False
    strip_accents: bool = False
    unicode_normalizer: UnicodeForm | None = None
    pre_tokenizer: WordSplit = "whitespace"


class BPETrainer(TokenizerTrainer):
    """Character-level BPE with an unknown token: chars outside the alphabet encode as `unk_token`."""

    name = "bpe"
    config_class = BPEConfig

    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        from corpuskit.tokenizers.bpe import BPEModel, train_bpe
        from corpuskit.tokenizers.decoders import MetaspaceDecoder

        c = self.config
        specials = self._specials(c.unk_token)
        vocab, merges = train_bpe(counts, c.vocab_size, c.min_frequency, specials, c.limit_alphabet)
        model = BPEModel(vocab, merges, unk_token=c.unk_token)
        decoder = MetaspaceDecoder() if c.pre_tokenizer == "metaspace" else None
        return Tokenizer(model, self.normalizer(), self.pre_tokenizer(), decoder, None, self._added(vocab, specials))


@dataclass
class ByteLevelBPEConfig:
    """Options of the `byte-bpe` trainer (GPT-2 byte-level BPE: nothing is unknown).

    vocab_size: tokens in the vocabulary, the 256 bytes and special tokens included
    min_frequency: pairs occurring fewer times are never merged
    special_tokens: added to the vocabulary first, matched in raw text first, never split
    lowercase: lowercase the text before counting and encoding
    strip_accents: remove accents (NFD, then drop combining marks)
    unicode_normalizer: Unicode normal form applied first (none: keep the text as is)
    pre_tokenizer: GPT-2's or GPT-4's regex split before bytes
    add_prefix_space: add a space before the text, so a first word encodes like any other
    """

    vocab_size: int = 30_000
    min_frequency: int = 0
    special_tokens: list[str] = field(default_factory=lambda: ["<|endoftext|>"])
    lowercase: bool = False
    strip_accents: bool = False
    unicode_normalizer: UnicodeForm | None = None
    pre_tokenizer: Literal["gpt2", "gpt4"] = "gpt2"  # regex split, then bytes
    add_prefix_space: bool = False


class ByteLevelBPETrainer(TokenizerTrainer):
    """Byte-level BPE (GPT-2): 256 byte symbols to start, so every string encodes, none unknown."""

    name = "byte-bpe"
    config_class = ByteLevelBPEConfig

    def pre_tokenizer(self) -> PreTokenizer:
        from corpuskit.tokenizers.pretokenizers import ByteLevel, Gpt4ByteLevel

        if self.config.pre_tokenizer == "gpt4":
            return Gpt4ByteLevel()
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
        return Tokenizer(model, self.normalizer(), self.pre_tokenizer(), ByteLevelDecoder(), post, self._added(vocab, list(c.special_tokens)))


@dataclass
class WordPieceConfig:
    """Options of the `wordpiece` trainer (BERT's normalizer and pre-tokenizer).

    vocab_size: tokens in the vocabulary, special tokens and alphabet included
    min_frequency: pairs occurring fewer times are never merged
    special_tokens: added to the vocabulary first, matched in raw text first, never split
    unk_token: token for words that cannot be spelled with the vocabulary
    continuing_subword_prefix: marks a piece that continues a word
    max_input_chars_per_word: longer words encode as unk_token
    criterion: likelihood ranks pairs by count(AB)/(count(A)count(B)); frequency by count(AB), as HF
    limit_alphabet: keep only the most frequent characters
    lowercase: lowercase the text (BERT uncased)
    strip_accents: remove accents (unset: follow lowercase, BERT's rule)
    unicode_normalizer: not an option for WordPiece (BERT's normalizer decides)
    pre_tokenizer: how text splits into words before merges
    """

    vocab_size: int = 30_000
    min_frequency: int = 0
    special_tokens: list[str] = field(default_factory=lambda: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    unk_token: str = "[UNK]"
    continuing_subword_prefix: str = "##"
    max_input_chars_per_word: int = 100
    criterion: Literal["likelihood", "frequency"] = "likelihood"  # likelihood: count(AB)/(count(A)count(B)); frequency: count(AB), as HF
    limit_alphabet: int | None = 1000
    lowercase: bool = True
    strip_accents: bool | None = None  # None: follow lowercase (BERT's rule)
    unicode_normalizer: UnicodeForm | None = None  # not an option: BERT's normalizer decides
    pre_tokenizer: WordSplit = "bert"


class WordPieceTrainer(TokenizerTrainer):
    """WordPiece: merges ranked by count(AB) / (count(A) * count(B)); BERT normalizer and pre-tokenizer."""

    name = "wordpiece"
    config_class = WordPieceConfig

    def validate_config(self) -> None:
        super().validate_config()
        if self.config.unicode_normalizer:
            raise ParamError(f"trainer {self.name!r}: unicode_normalizer is not an option (WordPiece uses BERT's normalizer)")

    def normalizer(self) -> Normalizer:
        c = self.config
        return BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=c.strip_accents, lowercase=c.lowercase)

    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        from corpuskit.tokenizers.decoders import WordPieceDecoder
        from corpuskit.tokenizers.wordpiece import WordPieceModel, train_wordpiece

        c = self.config
        specials = self._specials(c.unk_token)
        vocab = train_wordpiece(counts, c.vocab_size, c.min_frequency, specials, c.limit_alphabet, c.continuing_subword_prefix, c.max_input_chars_per_word, c.criterion)
        model = WordPieceModel(vocab, c.unk_token, c.continuing_subword_prefix, c.max_input_chars_per_word)
        decoder = WordPieceDecoder(c.continuing_subword_prefix, cleanup=True)
        return Tokenizer(model, self.normalizer(), self.pre_tokenizer(), decoder, None, self._added(vocab, specials))


@dataclass
class UnigramConfig:
    """Options of the `unigram` trainer (SentencePiece-style unigram LM, '▁' marks spaces).

    vocab_size: pieces in the vocabulary, special tokens included
    unk_token: piece for characters without a piece
    byte_fallback: spell characters without a piece as <0xNN> byte pieces instead of unk_token
    max_piece_length: longest piece, in characters
    seed_size: substrings in the seed vocabulary before pruning
    shrinking_factor: share of pieces kept by each pruning round
    em_iterations: EM rounds between prunings
    split_by_unicode_script: a piece holds one script only (SentencePiece's default)
    split_by_number: digits are not joined to letters
    split_digits: every digit is its own piece
    character_coverage: share of characters given a piece; the rarest others encode as unk_token
    special_tokens: added to the vocabulary first, matched in raw text first, never split
    lowercase: lowercase the text before counting and encoding
    strip_accents: remove accents (NFD, then drop combining marks)
    unicode_normalizer: Unicode normal form applied first (none: keep the text as is)
    pre_tokenizer: how text splits into words
    """

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
    unicode_normalizer: UnicodeForm | None = "NFKC"
    pre_tokenizer: WordSplit = "metaspace"


class UnigramTrainer(TokenizerTrainer):
    """SentencePiece-style unigram LM: seed substrings, EM, prune by likelihood loss; '▁' marks spaces."""

    name = "unigram"
    config_class = UnigramConfig

    def validate_config(self) -> None:
        super().validate_config()
        if not 0.0 < self.config.character_coverage <= 1.0:
            raise ParamError(f"trainer {self.name!r}: character_coverage must be in (0, 1], got {self.config.character_coverage}")

    def _fit(self, counts: dict[str, int]) -> Tokenizer:
        from corpuskit.tokenizers.decoders import ByteFallbackDecoder, FuseDecoder, MetaspaceDecoder, SequenceDecoder
        from corpuskit.tokenizers.unigram import UnigramModel, train_unigram

        c = self.config
        specials = self._specials(c.unk_token)
        pieces = train_unigram(counts, c.vocab_size, specials, c.max_piece_length, c.seed_size, c.shrinking_factor, c.em_iterations, c.byte_fallback, c.split_by_unicode_script, c.split_by_number, c.split_digits, c.character_coverage)
        vocab = {p: i for i, (p, _) in enumerate(pieces)}
        model = UnigramModel(pieces, vocab[c.unk_token], c.byte_fallback)
        decoder: Any = MetaspaceDecoder()
        if c.byte_fallback:
            decoder = SequenceDecoder([ByteFallbackDecoder(), FuseDecoder(), MetaspaceDecoder()])
        return Tokenizer(model, self.normalizer(), self.pre_tokenizer(), decoder, None, self._added(vocab, specials))


TRAINERS: dict[str, type[TokenizerTrainer]] = {t.name: t for t in (BPETrainer, ByteLevelBPETrainer, WordPieceTrainer, UnigramTrainer)}

