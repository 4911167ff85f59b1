"""Unigram language-model tokenizer (SentencePiece-style): Viterbi encoding, sampling, EM training.

Each piece has a log-probability; a word is split into the pieces whose scores sum highest.
Training starts from frequent substrings and alternates EM re-estimation with pruning the pieces
whose removal loses the least likelihood, until the target size; single characters are always
kept. Memory while training: O(characters of distinct words + seed pieces).
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from itertools import compress
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import regex

from corpuskit.tokenizers.bpe import cached_tokenize

log = logging.getLogger(__name__)
UNK_PENALTY = 10.0


def _flat_codepoints(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    starts = np.zeros(len(strings) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, strings), np.int64, len(strings)), out=starts[1:])
    cps = np.frombuffer("".join(strings).encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.int64)
    return cps, starts


class UnigramModel:
    """Pieces with scores; encoding is Viterbi (ties: the piece starting earliest), like HF/SentencePiece."""

    kind = "Unigram"

    def __init__(self, pieces: list[tuple[str, float]], unk_id: int | None = 0, byte_fallback: bool = False) -> None:
        from corpuskit.tokenizers.unigram_kernels import build_trie

        self.pieces = [(p, float(s)) for p, s in pieces]
        self.vocab = {}
        for i, (p, _) in enumerate(self.pieces):
            self.vocab.setdefault(p, i)
        self.id_to_token = {i: p for i, (p, _) in enumerate(self.pieces)}
        if unk_id is not None and not 0 <= unk_id < len(self.pieces):
            raise ValueError(f"Unigram unk_id {unk_id} is outside the vocabulary (size {len(self.pieces)})")
        self.unk_id = unk_id
        self.byte_fallback = byte_fallback
        self.scores = np.array([s for _, s in self.pieces], np.float64)
        self.min_score = float(self.scores.min()) if len(self.pieces) else 0.0
        cps, starts = _flat_codepoints([p for p, _ in self.pieces])
        self._trie = build_trie(cps, starts)
        self._max_len = max((len(p) for p, _ in self.pieces), default=1)
        self._caches: dict[bool, dict[str, tuple[list[int], list[int]]]] = {False: {}, True: {}}

    def tokenize_words(self, words: list[str], map_word: Callable[[str], str] | None = None) -> list[tuple[list[int], list[int]]]:
        return cached_tokenize(self, words, map_word)

    def encode_many(self, words: list[str]) -> list[tuple[list[int], list[int]]]:
        return self._viterbi(words)

    def _viterbi(self, words: list[str]) -> list[tuple[list[int], list[int]]]:
        from corpuskit.tokenizers.unigram_kernels import viterbi_words

        cps, starts = _flat_codepoints(words)
        unk = -1 if self.unk_id is None else self.unk_id
        ids, lens, bounds = viterbi_words(cps, starts, *self._trie, self.scores, unk, self.min_score - UNK_PENALTY, np.full(len(words), -1, np.int64))
        ids_l, lens_l, b = ids.tolist(), lens.tolist(), bounds.tolist()
        out = []
        for wi, w in enumerate(words):
            wid, wlen = ids_l[b[wi] : b[wi + 1]], lens_l[b[wi] : b[wi + 1]]
            if -2 in wid:
                raise ValueError(f"cannot encode {w!r}: a character is not in the vocabulary and the model has no unk_id")
            if self.byte_fallback and self.unk_id in wid:
                wid, wlen = self._byte_fallback(w, wid, wlen)
            out.append((wid, wlen))
        return out

    def _byte_fallback(self, word: str, ids: list[int], lens: list[int]) -> tuple[list[int], list[int]]:
        new_ids, new_lens = [], []
        pos = 0
        for tid, n in zip(ids, lens):
            piece = word[pos : pos + n]
            pos += n
            if tid == self.unk_id and piece not in self.vocab:
                byte_ids = [self.vocab.get(f"<0x{b:02X}>") for b in piece.encode("utf-8")]
                if all(b is not None for b in byte_ids):
                    new_ids.extend(byte_ids)  # type: ignore[arg-type]
                    new_lens.extend([n] + [0] * (len(byte_ids) - 1))
                    continue
            new_ids.append(tid)
            new_lens.append(n)
        return new_ids, new_lens

    def sample_word(self, word: str, alpha: float, rng: np.random.Generator) -> list[int]:
        """One segmentation drawn with probability proportional to P(segmentation)**alpha (subword regularisation)."""
        m = len(word)
        edges: list[list[tuple[int, int]]] = [[] for _ in range(m + 1)]  # edges ending at j: (start, piece)
        for i in range(m):
            single = False
            for j in range(i + 1, min(m, i + self._max_len) + 1):
                pid = self.vocab.get(word[i:j])
                if pid is not None:
                    edges[j].append((i, pid))
                    single = single or j == i + 1
            if not single:
                edges[i + 1].append((i, -1))
        unk_score = self.min_score - UNK_PENALTY
        alpha_f = [-math.inf] * (m + 1)
        alpha_f[0] = 0.0
        for j in range(1, m + 1):
            alpha_f[j] = float(np.logaddexp.reduce([alpha_f[i] + alpha * (self.scores[p] if p >= 0 else unk_score) for i, p in edges[j]])) if edges[j] else -math.inf
        out: list[int] = []
        end = m
        while end > 0:
            cand = edges[end]
            logits = np.array([alpha_f[i] + alpha * (self.scores[p] if p >= 0 else unk_score) for i, p in cand])
            probs = np.exp(logits - logits.max())
            i, p = cand[int(rng.choice(len(cand), p=probs / probs.sum()))]
            if p < 0:
                if self.unk_id is None:
                    raise ValueError(f"cannot encode {word!r}: unknown character and no unk_id")
                p = self.unk_id
            out.append(p)
            end = i
        return out[::-1]

    def to_hf(self) -> dict[str, Any]:
        return {"type": "Unigram", "unk_id": self.unk_id, "vocab": [[p, s] for p, s in self.pieces], "byte_fallback": self.byte_fallback}

    @classmethod
    def from_hf(cls, obj: dict[str, Any], where: str = "model") -> "UnigramModel":
        vocab = obj.get("vocab")
        if not isinstance(vocab, list):
            raise ValueError(f"{where}: Unigram needs a 'vocab' list of [piece, score]")
        pieces = []
        for i, entry in enumerate(vocab):
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                raise ValueError(f"{where}: vocab[{i}] is not [piece, score]: {entry!r}")
            pieces.append((entry[0], float(entry[1])))
        return cls(pieces, obj.get("unk_id"), bool(obj.get("byte_fallback", False)))


# ---------------------------------------------------------------------------------------------
# Training


def _digamma(x: np.ndarray) -> np.ndarray:
    from scipy.special import digamma

    return digamma(x)


def seed_pieces(
    words: list[str],
    words_cps: tuple[np.ndarray, np.ndarray],
    counts: np.ndarray,
    max_piece_length: int,
    seed_size: int,
    marker: str = "▁",
    split_by_unicode_script: bool = True,
    split_by_number: bool = True,
    split_digits: bool = False,
) -> tuple[list[str], np.ndarray]:
    """Seed vocabulary: every character, then the substrings of 2+ characters that occur at least
    twice in the corpus and are followed by at least two different things (the internal nodes of
    the corpus's suffix tree), ranked by occurrences * length: SentencePiece's seeding rule, with
    occurrences weighted by the word counts. The marker may only start a piece.
    With `split_by_unicode_script` a piece holds one script (see scripts.py; `split_by_number`: digits
    count as their own script, Common, rather than joining any; `split_digits`: digits stand alone).

    Substrings are told apart by a 64-bit hash (a collision would merge two counts; odds about
    n^2 / 2^64). Memory: O(characters of the distinct words * max_piece_length).
    """
    from corpuskit.tokenizers.unigram_kernels import shared_substrings

    cps, starts = words_cps  # _flat_codepoints(words)
    char_weight = np.bincount(cps, weights=np.repeat(counts, np.diff(starts)))
    present = np.flatnonzero(char_weight)
    chars = sorted((chr(c) for c in present.tolist()), key=lambda ch: (-char_weight[ord(ch)], ch))
    classes = _class_per_position(cps, present, split_by_number, split_digits, split_by_unicode_script)
    where, occurrences = shared_substrings(cps, starts, max_piece_length, ord(marker), classes=classes, right_branching=True, weights=np.asarray(counts, np.float64))
    lengths = where & 0xFF
    score = occurrences * lengths
    keep = max(seed_size - len(chars), 0)
    text = "".join(words)
    if len(score) > keep:
        cut = np.partition(score, len(score) - keep)[len(score) - keep] if keep else np.inf
        above = np.flatnonzero(score > cut)
        tied = np.flatnonzero(score == cut)
        tied = np.array(sorted(tied.tolist(), key=lambda i: text[where[i] >> 8 : (where[i] >> 8) + lengths[i]])[: keep - len(above)], np.int64)
        chosen = np.concatenate([above, tied]).astype(np.int64)
    else:
        chosen = np.arange(len(score))
    chosen.sort()  # hash order: independent of the order of the input words
    subs = [text[p >> 8 : (p >> 8) + (p & 0xFF)] for p in where[chosen].tolist()]
    pieces = chars + subs
    freqs = np.concatenate([char_weight[[ord(c) for c in chars]], score[chosen].astype(np.float64)])
    return pieces, freqs


def _class_per_position(cps: np.ndarray, present: np.ndarray, split_by_number: bool, split_digits: bool, split_by_script: bool) -> np.ndarray:
    """Script class (scripts.script_classes) of every code point in `cps`; `present`: its distinct code points."""
    from corpuskit.tokenizers.scripts import script_classes

    chars = "".join(chr(c) for c in present.tolist())
    by_char = script_classes(chars, split_by_number, split_digits, split_by_script)
    table = np.full(int(present.max()) + 1 if present.size else 1, -1, np.int32)
    table[present] = [by_char[ch] for ch in chars]
    return table[cps]


def _e_step(words_cps: tuple[np.ndarray, np.ndarray], wcount: np.ndarray, pieces: list[str], scores: np.ndarray) -> tuple[np.ndarray, float]:
    from numba import get_num_threads

    from corpuskit.tokenizers.unigram_kernels import build_trie, expected_counts

    trie = build_trie(*_flat_codepoints(pieces))
    return expected_counts(words_cps[0], words_cps[1], wcount, *trie, scores, max(2 * get_num_threads(), 1))


def _m_step(pieces: list[str], expected: np.ndarray, required: int) -> tuple[list[str], np.ndarray]:
    """New scores digamma(count) - digamma(total); drop non-character pieces expected < 0.5 times."""
    keep = np.ones(len(pieces), bool)
    keep[required:] = expected[required:] >= 0.5
    freq = np.maximum(expected[keep], 0.5)
    kept = list(compress(pieces, keep.tolist()))
    return kept, _digamma(freq) - _digamma(freq.sum())


def _prune(words_cps: tuple[np.ndarray, np.ndarray], wcount: np.ndarray, pieces: list[str], scores: np.ndarray, required: int, target: int, shrinking_factor: float) -> tuple[list[str], np.ndarray]:
    """Keep the pieces whose removal would cost the most likelihood (SentencePiece's rule)."""
    from corpuskit.tokenizers.unigram_kernels import build_trie, usage_counts, viterbi_words

    trie = build_trie(*_flat_codepoints(pieces))
    n = len(pieces)
    cps, starts = words_cps
    unk_score = float(scores.min()) - UNK_PENALTY
    p_cps, p_starts = _flat_codepoints(pieces)
    # the words' best segmentations and each piece's best segmentation without itself (its
    # alternative), on two threads: the kernel releases the GIL
    with ThreadPoolExecutor(2) as pool:
        alternatives = pool.submit(viterbi_words, p_cps, p_starts, *trie, scores, -1, unk_score, np.arange(n, dtype=np.int64))
        ids, _, bounds = viterbi_words(cps, starts, *trie, scores, -1, unk_score, np.full(starts.size - 1, -1, np.int64))
        alt_ids, _, alt_bounds = alternatives.result()
    freq, containing = usage_counts(ids, bounds, wcount, n)
    total = freq.sum()
    vsum = wcount.sum()
    # loss of piece i: its share of the words times log p(i) - sum over its alternative pieces a
    # of log((freq[a] + freq[i]) / (total + freq[i] * (len(alt) - 1))); no alternative (empty or
    # holding an unknown): infinite, never pruned; unused: -inf, always pruned
    alt_len = np.diff(alt_bounds)
    owner = np.repeat(np.arange(n), alt_len)
    unknown = np.bincount(owner[alt_ids < 0], minlength=n) > 0
    freq = freq.astype(np.float64)
    with np.errstate(divide="ignore"):
        logsum_alt = np.log(total + freq * (alt_len - 1))
        terms = np.log(freq[np.maximum(alt_ids, 0)] + freq[owner]) - logsum_alt[owner]
        logprob_alt = np.bincount(owner, weights=terms, minlength=n)
        logprob = np.log(freq) - math.log(total)
    losses = np.full(n, np.inf)
    scored = (alt_len > 0) & ~unknown & (freq > 0)
    losses[scored] = containing[scored] / vsum * (logprob[scored] - logprob_alt[scored])
    losses[freq == 0] = -np.inf
    losses[:required] = np.inf
    size = max(target, int(n * shrinking_factor))
    order = np.argsort(-losses[required:], kind="stable") + required
    chosen = np.sort(np.concatenate([np.arange(required), order[: max(size - required, 0)]]))
    chosen = chosen[losses[chosen] > -np.inf]
    return [pieces[i] for i in chosen], scores[chosen]


def split_at_rare_characters(word_counts: Mapping[str, int], coverage: float) -> dict[str, int]:
    """Word counts with the rarest characters cut out: the most frequent characters are kept until
    they cover `coverage` of all characters (weighted by word counts; SentencePiece's rule, ties
    by code point), and each word is split at the others into fragments that keep its count."""
    cps, starts = _flat_codepoints(list(word_counts))
    counts = np.fromiter(word_counts.values(), np.float64, len(word_counts))
    weight = np.bincount(cps, weights=np.repeat(counts, np.diff(starts)))
    present = np.flatnonzero(weight)
    order = present[np.lexsort((present, -weight[present]))]  # most frequent first, ties by code point
    covered_before = np.concatenate([[0.0], np.cumsum(weight[order])[:-1]])
    rare = [chr(c) for c in order[covered_before / weight.sum() >= coverage].tolist()]
    if not rare:
        return dict(word_counts)
    splitter = regex.compile("[" + "".join(regex.escape(ch) for ch in rare) + "]+")
    fragments: dict[str, int] = {}
    for word, n in word_counts.items():
        for part in splitter.split(word):
            if part:
                fragments[part] = fragments.get(part, 0) + n
    log.info("character coverage %.4f: %d rare characters get no piece", coverage, len(rare))
    return fragments


def train_unigram(
    word_counts: Mapping[str, int],
    vocab_size: int,
    special_tokens: Iterable[str] = ("<unk>",),
    max_piece_length: int = 16,
    seed_size: int = 1_000_000,
    shrinking_factor: float = 0.75,
    em_iterations: int = 2,
    byte_fallback: bool = False,
    split_by_unicode_script: bool = True,
    split_by_number: bool = True,
    split_digits: bool = False,
    character_coverage: float = 0.9995,
) -> list[tuple[str, float]]:
    """Learn Unigram pieces and scores from word counts; returns [(piece, score)] with specials first.

    Defaults are SentencePiece's: the rarest characters beyond `character_coverage` of all
    characters get no piece (they encode as the unknown token; 1.0 keeps every character), and
    pieces hold one Unicode script each with digits apart from letters (see `seed_pieces`).

    Characters are always kept, so `vocab_size` must exceed specials + distinct characters
    (+ 256 byte pieces with byte_fallback).
    """
    specials = list(dict.fromkeys(special_tokens))
    if not 0.0 < character_coverage <= 1.0:
        raise ValueError(f"character_coverage must be in (0, 1], got {character_coverage}")
    if character_coverage < 1.0:
        word_counts = split_at_rare_characters(word_counts, character_coverage)
        if not word_counts:
            raise ValueError("no training text left: every character is below the character coverage")
    words = list(word_counts)
    wcount = np.fromiter((word_counts[w] for w in words), np.float64, len(words))
    words_cps = _flat_codepoints(words)
    pieces, freqs = seed_pieces(words, words_cps, wcount, max_piece_length, seed_size, "▁", split_by_unicode_script, split_by_number, split_digits)
    required = sum(1 for p in pieces if len(p) == 1)
    byte_pieces = [f"<0x{b:02X}>" for b in range(256)] if byte_fallback else []
    budget = vocab_size - len(specials) - len(byte_pieces)
    if budget < required:
        raise ValueError(f"vocab_size {vocab_size} is smaller than special tokens + characters ({len(specials) + len(byte_pieces) + required}); raise it")
    scores = np.log(freqs) - math.log(freqs.sum())
    target = budget
    desired = max(int(target * 1.1), target)
    for round_ in range(1000):
        for _ in range(em_iterations):
            expected, ll = _e_step(words_cps, wcount, pieces, scores)
            pieces, scores = _m_step(pieces, expected, required)
            log.debug("unigram round %d: %d pieces, log-likelihood %.1f", round_, len(pieces), ll)
        if len(pieces) <= desired:
            break
        pieces, scores = _prune(words_cps, wcount, pieces, scores, required, desired, shrinking_factor)
    # final: characters plus the best-scoring other pieces
    order = np.argsort(-scores[required:], kind="stable")[: max(target - required, 0)] + required
    final = list(range(required)) + sorted(order.tolist(), key=lambda i: (-scores[i], pieces[i]))
    result = [(s, 0.0) for s in specials]
    taken = set(specials)
    body = sorted(((pieces[i], float(scores[i])) for i in final if pieces[i] not in taken), key=lambda ps: (-ps[1], ps[0]))
    result += body
    result += [(b, 0.0) for b in byte_pieces if b not in taken]
    return result
