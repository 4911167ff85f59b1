"""Word counting for training: normalize, split out special tokens, pre-tokenize, count.

Counting is separate from training so that counts made elsewhere (another machine, a distributed
job, a saved table) feed the same trainers (`Trainer.train_from_counts`). Memory: O(distinct words).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Iterable

import regex

from corpuskit.tokenizers.normalizers import Normalizer
from corpuskit.tokenizers.pretokenizers import PreTokenizer

log = logging.getLogger(__name__)


def clean_surrogates(text: str) -> tuple[str, int]:
    """Replace lone surrogates (undecodable input bytes) by U+FFFD; return the text and how many."""
    try:
        text.encode("utf-8")
        return text, 0
    except UnicodeEncodeError:
        fixed = text.encode("utf-8", "replace").decode("utf-8")
        return fixed, sum(1 for ch in text if 0xD800 <= ord(ch) <= 0xDFFF)


def count_words(
    texts: Iterable[str],
    pre_tokenizer: PreTokenizer | None,
    normalizer: Normalizer | None = None,
    special_tokens: Iterable[str] = (),
    progress: bool = False,
    stats: Counter | None = None,
) -> Counter:
    """Count pre-tokenized words over a stream of texts (consumed once).

    Special tokens are cut out of the text and not counted. Lone surrogates become U+FFFD and
    are counted in `stats["surrogates_replaced"]`; `stats["texts"]` counts the texts read.
    """
    counts: Counter = Counter()
    stats = stats if stats is not None else Counter()
    specials = sorted(set(special_tokens), key=len, reverse=True)
    special_re = regex.compile("|".join(regex.escape(s) for s in specials)) if specials else None
    split = pre_tokenizer.split_raw if pre_tokenizer is not None else (lambda s: [s] if s else [])
    iterator = texts
    if progress:
        from tqdm import tqdm

        iterator = tqdm(texts, unit=" texts", desc="counting")
    update = counts.update
    from corpuskit.tokenizers.pretokenizers import ByteLevel

    from corpuskit.tokenizers.fast_bytelevel import MODE_BERT, MODE_GPT2, MODE_METASPACE, MODE_WHITESPACE
    from corpuskit.tokenizers.pretokenizers import Metaspace

    hf_type = pre_tokenizer.to_hf().get("type") if pre_tokenizer is not None else None
    if type(pre_tokenizer) is ByteLevel and pre_tokenizer.use_regex and not pre_tokenizer.add_prefix_space:
        return _count_numba(iterator, normalizer, special_re, counts, stats, pre_tokenizer, MODE_GPT2, specials)
    if type(pre_tokenizer) is Metaspace and pre_tokenizer.split_words and len(pre_tokenizer.replacement) == 1:
        return _count_numba(iterator, normalizer, special_re, counts, stats, pre_tokenizer, MODE_METASPACE, specials)
    if hf_type in ("Whitespace", "BertPreTokenizer"):
        return _count_numba(iterator, normalizer, special_re, counts, stats, pre_tokenizer, MODE_WHITESPACE if hf_type == "Whitespace" else MODE_BERT, specials)
    # Pre-tokenizers that only ever split at whitespace see the same words in lines joined by
    # newlines, so those count a block of texts per call (far fewer Python-level calls).
    from corpuskit.tokenizers.pretokenizers import RegexFinder

    block = 2000 if isinstance(pre_tokenizer, RegexFinder) else 1
    pending: list[str] = []

    def flush() -> None:
        text = "\n".join(pending) if len(pending) > 1 else pending[0]
        pending.clear()
        text, bad = clean_surrogates(text)
        if bad:
            stats["surrogates_replaced"] += bad
        parts = special_re.split(text) if special_re is not None else (text,)
        for part in parts:
            if not part:
                continue
            if normalizer is not None:
                part = normalizer.normalize(part)
            update(split(part))

    for text in iterator:
        stats["texts"] += 1
        pending.append(text)
        if len(pending) >= block:
            flush()
    if pending:
        flush()
    if stats["surrogates_replaced"]:
        log.warning("replaced %d lone surrogates (undecodable bytes) with U+FFFD while counting", stats["surrogates_replaced"])
    if pre_tokenizer is not None and type(pre_tokenizer).map_word is not PreTokenizer.map_word:
        mapped: Counter = Counter()
        for word, count in counts.items():
            mapped[pre_tokenizer.map_word(word)] += count
        counts = mapped
    return counts


def _count_numba(texts: Iterable[str], normalizer: Normalizer | None, special_re: "regex.Pattern | None", counts: Counter, stats: Counter, pre_tokenizer: PreTokenizer, mode: int, specials: list[str], block_chars: int = 1 << 18) -> Counter:
    """count_words for the GPT-2, Whitespace and BERT splits: pieces counted in numba, a block of texts at a time."""
    from corpuskit.tokenizers.fast_bytelevel import MODE_METASPACE, PieceCounter, metaspace_word

    # Blocks are counted on a second thread (the numba kernel releases the GIL) while this one
    # reads and cleans the next block; the queue holds at most two blocks (memory: O(block)).
    blocks: queue.Queue = queue.Queue(maxsize=2)
    failure: list[BaseException] = []
    counter_box: list = []

    def consume() -> None:
        try:
            counter = PieceCounter(mode, getattr(pre_tokenizer, "replacement", "\u2581"))
            counter_box.append(counter)
            while (item := blocks.get()) is not None:
                counter.add(*item)
        except BaseException as exc:  # re-raised on the reading thread
            failure.append(exc)
            while blocks.get() is not None:
                pass

    def prepare(raw: list[str]) -> tuple[list[str], str | None]:
        """A block's texts made countable: surrogates replaced, special tokens cut out, normalized.

        Most blocks need none of it, which whole-block tests show at C speed."""
        joined = "".join(raw)
        if normalizer is None and not any(s in joined for s in specials):
            try:
                joined.isascii() or joined.encode("utf-8")
                return raw, joined
            except UnicodeEncodeError:
                pass
        out: list[str] = []
        for text in raw:
            if not text.isascii():
                text, bad = clean_surrogates(text)
                if bad:
                    stats["surrogates_replaced"] += bad
            parts = special_re.split(text) if special_re is not None and any(s in text for s in specials) else (text,)
            for part in parts:
                if part:
                    out.append(normalizer.normalize(part) if normalizer is not None else part)
        return out, None

    worker = threading.Thread(target=consume, name="count-pieces", daemon=True)
    worker.start()
    block: list[str] = []
    size = 0
    n_texts = 0
    try:
        for text in texts:
            block.append(text)
            size += len(text)
            if size >= block_chars:
                n_texts += len(block)
                blocks.put(prepare(block))
                block, size = [], 0
        if block:
            n_texts += len(block)
            blocks.put(prepare(block))
    finally:
        stats["texts"] += n_texts
        blocks.put(None)
        worker.join()
    if failure:
        raise failure[0]
    counter = counter_box[0]
    if mode == MODE_METASPACE:
        rep, prepend = pre_tokenizer.replacement, pre_tokenizer.prepend_scheme != "never"  # type: ignore[attr-defined]
        for raw, n in counter.counts().items():
            counts[metaspace_word(raw, rep, prepend)] += n
        return counts
    counts.update(counter.counts())
    if stats["surrogates_replaced"]:
        log.warning("replaced %d lone surrogates (undecodable bytes) with U+FFFD while counting", stats["surrogates_replaced"])
    if type(pre_tokenizer).map_word is PreTokenizer.map_word:
        return counts
    mapped: Counter = Counter()
    for word, count in counts.items():
        mapped[pre_tokenizer.map_word(word)] += count
    return mapped
