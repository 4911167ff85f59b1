"""The Tokenizer: normalizer -> pre-tokenizer -> model -> post-processor, plus decoder and added tokens.

It reads and writes Hugging Face `tokenizer.json` (and `vocab.json` + `merges.txt` for BPE), and
gives the same ids as HF `tokenizers` for the components it supports. Special tokens are found
in the raw text first (leftmost, longest) and never split. Memory: the model, plus a word cache
per model (O(distinct words seen), capped).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import regex

from corpuskit.files import atomic_write, open_text, write_json_atomic
from corpuskit.modelfile import ModelFileError
from corpuskit.tokenizers.decoders import Decoder, decoder_from_hf
from corpuskit.tokenizers.normalizers import Normalizer, normalizer_from_hf
from corpuskit.tokenizers.pretokenizers import ByteLevel, Metaspace, PreTokenizer, RegexFinder, check_text, pretokenizer_from_hf
from corpuskit.tokenizers.processors import PostProcessor, processor_from_hf
from corpuskit.trainer import Model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddedToken:
    """A token matched in raw text before anything else runs (special tokens: [CLS], <|endoftext|>)."""

    content: str
    id: int
    special: bool = True

    def to_hf(self) -> dict[str, Any]:
        return {"id": self.id, "content": self.content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": self.special}


def _model_from_hf(obj: dict[str, Any], where: str) -> Any:
    kind = obj.get("type")
    if kind is None:
        kind = "BPE" if "merges" in obj else "Unigram" if isinstance(obj.get("vocab"), list) else "WordPiece" if "continuing_subword_prefix" in obj else None
    if kind == "BPE":
        from corpuskit.tokenizers.bpe import BPEModel

        return BPEModel.from_hf(obj, where)
    if kind == "WordPiece":
        from corpuskit.tokenizers.wordpiece import WordPieceModel

        return WordPieceModel.from_hf(obj, where)
    if kind == "Unigram":
        from corpuskit.tokenizers.unigram import UnigramModel

        return UnigramModel.from_hf(obj, where)
    raise ValueError(f"{where}: unsupported model type {kind!r} (supported: BPE, WordPiece, Unigram)")


class Tokenizer(Model):
    """Text <-> ids with a trained model; `save`/`load` use Hugging Face's tokenizer.json."""

    def __init__(
        self,
        model: Any,
        normalizer: Normalizer | None = None,
        pre_tokenizer: PreTokenizer | None = None,
        decoder: Decoder | None = None,
        post_processor: PostProcessor | None = None,
        added_tokens: Iterable[AddedToken] = (),
    ) -> None:
        self.model = model
        self.normalizer = normalizer
        self.pre_tokenizer = pre_tokenizer
        self.decoder = decoder
        self.post_processor = post_processor
        self.added_tokens = sorted(added_tokens, key=lambda t: t.id)
        self._fast_ok: bool | None = None
        self._fast_encoders: list[Any] = []
        self._map_word = pre_tokenizer.map_word if pre_tokenizer is not None and type(pre_tokenizer).map_word is not PreTokenizer.map_word else None
        self._added = {t.content: t.id for t in self.added_tokens}
        self._special_ids = {t.id for t in self.added_tokens if t.special}
        self._id_to_added = {t.id: t.content for t in self.added_tokens}
        if self.added_tokens:
            alternatives = sorted(self._added, key=len, reverse=True)
            self._added_re: regex.Pattern | None = regex.compile("(" + "|".join(regex.escape(a) for a in alternatives) + ")")
        else:
            self._added_re = None

    # -- vocabulary --------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """Number of distinct ids (model vocabulary and added tokens)."""
        return len(set(self.model.id_to_token) | set(self._id_to_added))

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self.model.vocab)
        vocab.update(self._added)
        return vocab

    def token_to_id(self, token: str) -> int | None:
        tid = self._added.get(token)
        return tid if tid is not None else self.model.vocab.get(token)

    def id_to_token(self, tid: int) -> str | None:
        tok = self._id_to_added.get(tid)
        return tok if tok is not None else self.model.id_to_token.get(tid)

    # -- encoding ----------------------------------------------------------------------------

    def _segments(self, text: str) -> list[tuple[str, int, bool]]:
        """(piece, start, is_added_token) in text order; empty pieces dropped."""
        if self._added_re is None:
            return [(text, 0, False)] if text else []
        out = []
        pos = 0
        for i, part in enumerate(self._added_re.split(text)):
            if part:
                out.append((part, pos, i % 2 == 1))
            pos += len(part)
        return out

    def _words(self, segment: str, first: bool) -> list[str]:
        """Raw pre-tokenized pieces of a segment (the model maps them with `self._map_word`)."""
        if self.normalizer is not None:
            segment = self.normalizer.normalize(segment)
        pre = self.pre_tokenizer
        if pre is None:
            return [segment] if segment else []
        if isinstance(pre, Metaspace):
            return [p for p, _, _ in pre.split_offsets(segment, first)]
        return pre.split_raw(segment)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Token ids of `text` (special tokens of the post-processor added unless told not to).

        A lone surrogate is a ValueError naming its index; NUL and every other code point encode.
        """
        if not text.isascii():
            check_text(text)
        if self._added_re is None or self._added_re.search(text) is None:
            ids = self._word_ids(self._words(text, True))
        else:
            ids = []
            for segment, start, added in self._segments(text):
                if added:
                    ids.append(self._added[segment])
                else:
                    ids.extend(self._word_ids(self._words(segment, start == 0)))
        if add_special_tokens and self.post_processor is not None:
            ids = self.post_processor.apply(ids)
        return ids

    def _word_ids(self, words: list[str]) -> list[int]:
        """Flattened ids of pre-tokenized words: a plain cache walk, the model only on a miss."""
        cache = self.model._caches[self._map_word is not None]
        try:
            return [i for w in words for i in cache[w][0]]
        except KeyError:
            return [i for ids, _ in self.model.tokenize_words(words, self._map_word) for i in ids]

    def encode_sampled(self, text: str, alpha: float = 0.1, seed: int | np.random.Generator = 0, add_special_tokens: bool = True) -> list[int]:
        """Unigram only: ids of one segmentation drawn with probability ∝ P(segmentation)**alpha
        (subword regularisation). Same seed, same draw."""
        from corpuskit.tokenizers.unigram import UnigramModel

        if not isinstance(self.model, UnigramModel):
            raise ValueError(f"sampling needs a Unigram model, this one is {self.model.kind}")
        check_text(text)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        ids: list[int] = []
        for segment, start, added in self._segments(text):
            if added:
                ids.append(self._added[segment])
                continue
            for word in self._words(segment, start == 0):
                ids.extend(self.model.sample_word(self._map_word(word) if self._map_word else word, alpha, rng))
        if add_special_tokens and self.post_processor is not None:
            ids = self.post_processor.apply(ids)
        return ids

    def tokenize(self, text: str) -> list[str]:
        """Token strings of `text` (no post-processor tokens)."""
        return [self.id_to_token(i) or "" for i in self.encode(text, add_special_tokens=False)]

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = True, workers: int = 1) -> list[list[int]]:
        """Encode many texts; with workers > 1, chunks run in threads (numba and regex release the GIL).

        Plain byte-level BPE (GPT-2 split, no normalizer) runs in one numba pass per chunk of texts.
        """
        texts = list(texts)
        if self._fast_possible(add_special_tokens):
            return self._encode_batch_fast(texts, add_special_tokens, workers)
        encode = self._batch_encoder(add_special_tokens, concurrent=workers > 1)
        if workers <= 1 or len(texts) < 64:
            return [encode(t) for t in texts]
        size = (len(texts) + workers * 4 - 1) // (workers * 4)
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        with ThreadPoolExecutor(workers) as pool:
            parts = pool.map(lambda chunk: [encode(t) for t in chunk], chunks)
            return [ids for part in parts for ids in part]

    def _fast_possible(self, add_special_tokens: bool) -> bool:
        from corpuskit.tokenizers.bpe import BPEModel
        from corpuskit.tokenizers.bytelevel import BYTE_TO_CHAR

        if self._fast_ok is None:
            pre, model = self.pre_tokenizer, self.model
            self._fast_ok = (
                self.normalizer is None
                and isinstance(pre, ByteLevel)
                and pre.use_regex
                and not pre.add_prefix_space
                and isinstance(model, BPEModel)
                and not model.ignore_merges
                and all(c in model.vocab for c in BYTE_TO_CHAR.values())
            )
        post = self.post_processor
        return self._fast_ok and (post is None or not add_special_tokens or not (post.prefix or post.suffix))

    def _encode_batch_fast(self, texts: list[str], add_special_tokens: bool, workers: int, chunk: int = 20_000) -> list[list[int]]:
        from corpuskit.tokenizers.fast_bytelevel import FastByteLevelEncoder

        added = list(self._added)
        special: set[int] = set()
        if added:
            joined = "".join(texts)
            if any(token in joined for token in added):
                special = {i for i, text in enumerate(texts) if any(token in text for token in added)}
        plain = [i for i in range(len(texts)) if i not in special] if special else None
        n_plain = len(texts) - len(special)
        chunks = [(a, min(a + chunk, n_plain)) for a in range(0, n_plain, chunk)]
        workers = max(1, min(workers, len(chunks)))
        while len(self._fast_encoders) < workers:
            self._fast_encoders.append(FastByteLevelEncoder(self.model))
        parts: list[list[list[int]]] = [[] for _ in chunks]

        def run(worker: int) -> None:
            encoder = self._fast_encoders[worker]
            for c in range(worker, len(chunks), workers):
                a, b = chunks[c]
                batch = texts[a:b] if plain is None else [texts[i] for i in plain[a:b]]
                try:
                    parts[c] = encoder.encode(batch)
                except UnicodeEncodeError:
                    for text in batch:
                        check_text(text)
                    raise

        if workers == 1:
            run(0)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, range(workers)))
        flat = [ids for part in parts for ids in part]
        if not special:
            return flat
        results: list[list[int]] = [[] for _ in texts]
        for i, ids in zip(plain, flat):  # type: ignore[arg-type]
            results[i] = ids
        for i in special:
            results[i] = self.encode(texts[i], add_special_tokens)
        return results

    def _batch_encoder(self, add_special_tokens: bool, concurrent: bool = False) -> Callable[[str], list[int]]:
        """`encode`, specialised when the pipeline is a plain regex split (the common byte-level case)."""
        pre = self.pre_tokenizer
        post = self.post_processor
        plain = (
            self.normalizer is None
            and isinstance(pre, (ByteLevel, RegexFinder))
            and not (isinstance(pre, ByteLevel) and (pre.add_prefix_space or not pre.use_regex))
            and (post is None or not add_special_tokens or not (post.prefix or post.suffix))
        )
        if not plain:
            return lambda text: self.encode(text, add_special_tokens)
        pattern = pre._re if isinstance(pre, ByteLevel) else pre.compiled  # type: ignore[union-attr]
        findall = pattern.findall
        cache = self.model._caches[self._map_word is not None]
        added = list(self._added)
        slow = self.encode

        def encode(text: str) -> list[int]:
            if not text.isascii():
                check_text(text)
            for token in added:
                if token in text:
                    return slow(text, add_special_tokens)
            words = findall(text, concurrent=True) if concurrent else findall(text)
            try:
                return [i for w in words for i in cache[w][0]]
            except KeyError:
                return self._word_ids(words)

        return encode

    def encode_with_offsets(self, text: str) -> list[tuple[int, int, int]]:
        """(id, start, end) per token, with [start, end) a span of `text` (no post-processor tokens).

        A byte-level token that covers part of a character reports the whole character.
        """
        from corpuskit.tokenizers.offsets import normalize_aligned, piece_spans

        check_text(text)
        out: list[tuple[int, int, int]] = []
        for segment, seg_start, added in self._segments(text):
            if added:
                out.append((self._added[segment], seg_start, seg_start + len(segment)))
                continue
            norm, starts, ends = normalize_aligned(self.normalizer, segment)
            pre = self.pre_tokenizer
            if pre is None:
                pieces = [(norm, 0, len(norm))] if norm else []
                unit = "char"
            else:
                pieces = pre.split_offsets(norm, seg_start == 0) if isinstance(pre, Metaspace) else pre.split_offsets(norm)
                unit = pre.unit
            results = self.model.tokenize_words([p for p, _, _ in pieces])
            for (piece, a, b), (ids, lens) in zip(pieces, results):
                for tid, (x, y) in zip(ids, piece_spans(piece, norm[a:b], lens, unit)):
                    x, y = a + x, a + y
                    if y > x:
                        out.append((tid, seg_start + starts[x], seg_start + ends[y - 1]))
                    else:
                        pos = seg_start + (starts[x] if x < len(starts) else len(segment))
                        out.append((tid, pos, pos))
        return out

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Text of `ids`; unknown ids are a KeyError naming the id."""
        tokens = []
        for tid in ids:
            if skip_special_tokens and tid in self._special_ids:
                continue
            tok = self.id_to_token(int(tid))
            if tok is None:
                raise KeyError(f"id {tid} is not in the vocabulary (size {self.vocab_size})")
            tokens.append(tok)
        if self.decoder is None:
            return " ".join(tokens)
        return self.decoder.decode(tokens)

    # -- files -------------------------------------------------------------------------------

    def to_hf(self) -> dict[str, Any]:
        """The tokenizer.json object that HF `tokenizers.Tokenizer.from_str` reads."""
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [t.to_hf() for t in self.added_tokens],
            "normalizer": self.normalizer.to_hf() if self.normalizer else None,
            "pre_tokenizer": self.pre_tokenizer.to_hf() if self.pre_tokenizer else None,
            "post_processor": self.post_processor.to_hf() if self.post_processor else None,
            "decoder": self.decoder.to_hf() if self.decoder else None,
            "model": self.model.to_hf(),
        }

    def save(self, path: str | Path) -> None:
        """Write tokenizer.json atomically (two levels indented; the vocabulary and merges on one line each,
        which lets json's C encoder write them: indenting them all takes several times longer)."""
        with atomic_write(path, "w") as handle:
            handle.write(_json_text(self.to_hf(), 2))
            handle.write("\n")

    @classmethod
    def from_hf(cls, obj: dict[str, Any], where: str = "tokenizer.json") -> "Tokenizer":
        """Build from a parsed tokenizer.json; anything unsupported is a ValueError naming `where` and the part."""
        if not isinstance(obj, dict) or "model" not in obj:
            raise ValueError(f"{where}: not a tokenizer.json (no 'model' object)")
        model = _model_from_hf(obj["model"], f"{where}: model")
        added = []
        for i, tok in enumerate(obj.get("added_tokens") or []):
            try:
                added.append(AddedToken(tok["content"], int(tok["id"]), bool(tok.get("special", False))))
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{where}: added_tokens[{i}] needs 'content' and 'id'") from None
            if tok.get("lstrip") or tok.get("rstrip") or tok.get("single_word"):
                log.warning("%s: added token %r: lstrip/rstrip/single_word are ignored", where, tok["content"])
        return cls(
            model,
            normalizer=normalizer_from_hf(obj.get("normalizer"), f"{where}: normalizer"),
            pre_tokenizer=pretokenizer_from_hf(obj.get("pre_tokenizer"), f"{where}: pre_tokenizer"),
            decoder=decoder_from_hf(obj.get("decoder"), f"{where}: decoder"),
            post_processor=processor_from_hf(obj.get("post_processor"), f"{where}: post_processor"),
            added_tokens=added,
        )

    @classmethod
    def load(cls, path: str | Path) -> "Tokenizer":
        """Read a tokenizer.json (ours or Hugging Face's).

        A malformed file, or one with parts we do not support, is a ModelFileError naming the file,
        what was expected and what was found (the JSON line, or the part and its type).
        """
        expected = "a tokenizer.json"
        try:
            with open_text(path) as handle:
                raw = handle.read()
        except (FileNotFoundError, IsADirectoryError):
            raise ModelFileError(path, expected, "no such file" if not Path(path).exists() else "a directory") from None
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ModelFileError(path, expected, f"malformed JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("model"), dict):
            found = f"a JSON {type(obj).__name__}" if not isinstance(obj, dict) else "a JSON object"
            raise ModelFileError(path, expected, f"{found} without a 'model' object")
        try:
            return cls.from_hf(obj, "")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = str(exc).removeprefix(": ") if isinstance(exc, ValueError) else f"a malformed part ({type(exc).__name__}: {exc})"
            raise ModelFileError(path, f"{expected} with parts corpuskit supports", detail) from None

    from_file = load

    def save_vocab_merges(self, directory: str | Path, prefix: str = "") -> tuple[Path, Path]:
        """Write BPE `vocab.json` and `merges.txt` (GPT-2 style) into `directory`."""
        from corpuskit.tokenizers.bpe import BPEModel

        if not isinstance(self.model, BPEModel):
            raise ValueError("vocab.json + merges.txt exist only for BPE models")
        directory = Path(directory)
        vocab_path = directory / f"{prefix}vocab.json"
        merges_path = directory / f"{prefix}merges.txt"
        write_json_atomic(vocab_path, self.get_vocab())
        with atomic_write(merges_path, "w") as handle:
            handle.write("#version: 0.2\n")
            for a, b in self.model.merges:
                handle.write(f"{a} {b}\n")
        return vocab_path, merges_path

    @classmethod
    def from_vocab_merges(cls, vocab_path: str | Path, merges_path: str | Path, byte_level: bool = True, unk_token: str | None = None) -> "Tokenizer":
        """Load GPT-2 style BPE files; byte_level=True adds the ByteLevel pre-tokenizer and decoder."""
        from corpuskit.tokenizers.bpe import BPEModel
        from corpuskit.tokenizers.decoders import ByteLevelDecoder
        from corpuskit.tokenizers.pretokenizers import ByteLevel, Whitespace

        with open_text(vocab_path) as handle:
            try:
                vocab = json.load(handle)
            except json.JSONDecodeError as exc:
                raise ModelFileError(vocab_path, "a vocab.json", f"malformed JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(vocab, dict):
            raise ModelFileError(vocab_path, "a vocab.json (a JSON object of token: id)", f"a JSON {type(vocab).__name__}")
        merges = []
        with open_text(merges_path) as handle:
            for lineno, line in enumerate(handle, 1):
                line = line.rstrip("\r\n")
                if not line or (lineno == 1 and line.startswith("#version")):
                    continue
                parts = line.split(" ")
                if len(parts) != 2:
                    raise ModelFileError(merges_path, "a merges.txt (two tokens separated by one space per line)", f"line {lineno}: {line[:60]!r}")
                merges.append((parts[0], parts[1]))
        model = BPEModel(vocab, merges, unk_token=unk_token)
        if byte_level:
            return cls(model, pre_tokenizer=ByteLevel(add_prefix_space=False), decoder=ByteLevelDecoder())
        return cls(model, pre_tokenizer=Whitespace())


def _json_text(obj: Any, depth: int, level: int = 0) -> str:
    """JSON of `obj` with objects indented for `depth` levels and everything deeper on one line."""
    if depth == 0 or not isinstance(obj, dict) or not obj:
        return json.dumps(obj, ensure_ascii=False)
    pad = "  " * (level + 1)
    items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_json_text(v, depth - 1, level + 1)}" for k, v in obj.items()]
    return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
