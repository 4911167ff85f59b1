"""fastText supervised text classification: averaged word and n-gram vectors -> softmax (or one-vs-all).

    from corpuskit.embeddings.supervised import SupervisedTrainer
    model = SupervisedTrainer(dim=32, epoch=10, word_ngrams=2).train(["__label__good some text", ...])
    model.predict("new text", k=1)        # [("__label__good", 0.93)]
    model.save("model.bin")               # fastText's own format: `fasttext.load_model` reads it

A text is one example: its tokens are split on fastText's whitespace (space, tab, newline, CR,
VT, FF, NUL), tokens starting with `__label__` are its labels, the rest its words, and the
end-of-line token `</s>` ends it, as fastText reads a line. Its input rows are, as in fastText's
`Dictionary::getLine`: each known word's row (plus its character n-gram buckets when maxn > 0),
the n-gram buckets of unknown words, and one bucket per word n-gram (2..word_ngrams words,
hashed as fastText hashes them). Counting (the map stage) counts words and labels; training
reads the corpus again to encode it. Memory: O(vocabulary + bucket) * dim weights, and the
encoded corpus, O(tokens * rows per token) int32.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from corpuskit.embeddings.fasttext_format import EOS, LABEL_PREFIX, Args, FastTextModel, QuantMatrix, read_fasttext, write_fasttext
from corpuskit.embeddings.subwords import char_ngrams, fnv1a_hash
from corpuskit.modelfile import ModelFileError
from corpuskit.trainer import Counts, Model, Trainer

log = logging.getLogger(__name__)

_SPLIT = re.compile(r"[ \n\r\t\v\f\0]+")
_FASTTEXT_SPACE = " \n\r\t\v\f\0"
# characters str.split() and fastText disagree on: NUL is fastText-only, the rest Python-only
_SPACE_DIFFERENCE = re.compile("[\x00\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
NGRAM_MULTIPLIER = 116049371  # fastText's word n-gram hash step
_MASK64 = (1 << 64) - 1
TOKEN_CACHE_SIZE = 1_000_000  # distinct tokens whose rows and hash are remembered


def tokenize(text: str) -> list[str]:
    """fastText's tokens of a text (its whitespace only; a text is one line).

    `str.split()` (fast) gives the same tokens unless the text holds a character only one of
    the two treats as a space; those texts take the regex path.
    """
    if _SPACE_DIFFERENCE.search(text) is None:
        return text.split()
    text = text.strip(_FASTTEXT_SPACE)
    return _SPLIT.split(text) if text else []


def word_ngram_buckets(hashes: list[int], n: int, bucket: int) -> list[int]:
    """Buckets of the 2..n-word n-grams of words with fastText hashes `hashes` (uint32).

    fastText keeps word hashes as int32 and widens them to uint64 with sign extension, then
    h = h * 116049371 + next (mod 2**64), bucket = h % bucket.
    """
    if bucket <= 0 or n <= 1:
        return []
    wide = [h | 0xFFFFFFFF00000000 if h & 0x80000000 else h for h in hashes]
    out = []
    for i in range(len(wide)):
        h = wide[i]
        for j in range(i + 1, min(len(wide), i + n)):
            h = (h * NGRAM_MULTIPLIER + wide[j]) & _MASK64
            out.append(h % bucket)
    return out


def label_tree(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """fastText's Huffman tree over labels (counts in dictionary order, i.e. descending).

    Returns (left, right) child arrays over 2n-1 nodes; leaves are 0..n-1, inner node i's output
    row is i - n, the root is 2n-2. Built as fastText builds it (two queues, leaves taken from
    the least frequent end), so its rows line up with a fastText model's output matrix.
    """
    n = len(counts)
    total = max(1, 2 * n - 1)
    count = np.full(total, 10**15, dtype=np.int64)
    count[:n] = counts
    left = np.full(total, -1, dtype=np.int64)
    right = np.full(total, -1, dtype=np.int64)
    leaf, node = n - 1, n
    for i in range(n, 2 * n - 1):
        pair = []
        for _ in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                pair.append(leaf)
                leaf -= 1
            else:
                pair.append(node)
                node += 1
        left[i], right[i] = pair
        count[i] = count[pair[0]] + count[pair[1]]
    return left, right


def label_paths(tree: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each label's path in CSR form, leaf to root as fastText walks it: (offsets, output rows of
    the inner nodes, codes: 1 where the path goes right)."""
    left, right = tree
    n = (left.size + 1) // 2
    parent = np.full(left.size, -1, dtype=np.int64)
    code = np.zeros(left.size, dtype=np.int8)
    inner = np.flatnonzero(left >= 0)
    parent[left[inner]] = inner
    parent[right[inner]] = inner
    code[right[inner]] = 1
    offsets, nodes, codes = [0], [], []
    for leaf in range(n):
        j = leaf
        while parent[j] != -1:
            nodes.append(parent[j] - n)
            codes.append(code[j])
            j = parent[j]
        offsets.append(len(nodes))
    return np.array(offsets, np.int64), np.array(nodes, np.int32), np.array(codes, np.int8)


def tree_probabilities(tree: tuple[np.ndarray, np.ndarray], scores: np.ndarray) -> np.ndarray:
    """Each leaf's probability: the product of sigmoid (right) / 1 - sigmoid (left) along its path,
    summed in log space with fastText's 1e-5 floor (its `std_log`). `scores`: inner-node dot products."""
    left, right = tree
    n = (left.size + 1) // 2
    if n == 1:
        return np.ones(1, dtype=np.float32)
    f = 1.0 / (1.0 + np.exp(-scores.astype(np.float64)))
    logp = np.zeros(left.size)
    for i in range(2 * n - 2, n - 1, -1):
        logp[left[i]] = logp[i] + np.log(1.0 - f[i - n] + 1e-5)
        logp[right[i]] = logp[i] + np.log(f[i - n] + 1e-5)
    return np.exp(logp[:n]).astype(np.float32)


# ---- counting --------------------------------------------------------------------------------


class SupervisedCounts(Counts):
    """Token counts (words and `__label__` labels, `</s>` once per text), sorted by token; texts read."""

    format = "corpuskit.fasttext-supervised-counts"

    def __init__(self, config: dict, tokens: list[str], counts: np.ndarray, texts: int) -> None:
        super().__init__(config)
        self.tokens, self.counts, self.texts = tokens, np.asarray(counts, dtype=np.int64), int(texts)

    @classmethod
    def from_counter(cls, config: dict, counter: Counter, texts: int) -> "SupervisedCounts":
        tokens = sorted(counter)
        return cls(config, tokens, np.array([counter[t] for t in tokens], dtype=np.int64), texts)

    def _merged(self, other: "SupervisedCounts") -> "SupervisedCounts":
        total: Counter = Counter(dict(zip(self.tokens, self.counts.tolist())))
        total.update(dict(zip(other.tokens, other.counts.tolist())))
        return SupervisedCounts.from_counter(self.config, total, self.texts + other.texts)

    def _to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        encoded = [t.encode("utf-8", errors="surrogateescape") for t in self.tokens]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        return {"token_bytes": data, "token_offsets": offsets, "counts": self.counts}, {"distinct": len(self.tokens), "texts": self.texts}

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], config: dict[str, Any]) -> "SupervisedCounts":
        data, offsets = arrays["token_bytes"].tobytes(), arrays["token_offsets"]
        tokens = [data[offsets[i] : offsets[i + 1]].decode("utf-8", errors="surrogateescape") for i in range(len(offsets) - 1)]
        if len(tokens) != meta["distinct"] or len(tokens) != len(arrays["counts"]):
            raise ValueError("token count does not match the metadata")
        return cls(config, tokens, arrays["counts"], meta["texts"])


# ---- the model -------------------------------------------------------------------------------


class SupervisedModel(Model):
    """A fastText classifier: its file contents plus what prediction needs (dense input rows, caches).

    Reads and writes fastText's own `.bin`/`.ftz` format, so models from fastText's trainer load
    here and ours load in fastText. Hierarchical-softmax models are refused (not supported).
    """

    def __init__(self, file: FastTextModel) -> None:
        if file.args.model != "supervised":
            raise ValueError(f"a supervised fastText model is needed, got a {file.args.model} one")
        self.file = file
        self.args = file.args
        self.nwords = file.nwords
        self.labels = [w for w, t in zip(file.words, file.types.tolist()) if t == 1]
        self.index = file.word_index()
        self.input = file.input.dense() if isinstance(file.input, QuantMatrix) else np.asarray(file.input, dtype=np.float32)
        self.output = file.output.dense() if isinstance(file.output, QuantMatrix) else np.asarray(file.output, dtype=np.float32)
        self._subwords: dict[int, list[int]] = {}
        self._tokens: dict[str, tuple[int, object, int]] = {}  # token -> what encode needs; grows with distinct tokens seen
        self.tree = label_tree(file.counts[file.types == 1]) if self.args.loss == "hs" else None

    # -- encoding, as fastText's Dictionary --
    def _push(self, out: list[int], bucket_id: int) -> None:
        pruned = self.file.pruneidx
        if pruned is None:
            out.append(self.nwords + bucket_id)
        elif bucket_id in pruned:
            out.append(self.nwords + pruned[bucket_id])

    def _ngrams(self, token: str, out: list[int]) -> None:
        a = self.args
        if a.maxn <= 0 or a.bucket <= 0:
            return
        for gram in char_ngrams(token, max(a.minn, 1), a.maxn):
            self._push(out, fnv1a_hash(gram) % a.bucket)

    def word_rows(self, wid: int) -> list[int]:
        """Input rows of vocabulary word `wid`: its own row and, with maxn > 0, its n-gram buckets."""
        rows = self._subwords.get(wid)
        if rows is None:
            rows = [wid]
            word = self.file.words[wid]
            if word != EOS:
                self._ngrams(word, rows)
            self._subwords[wid] = rows
        return rows

    def encode(self, tokens: list[str]) -> tuple[list[int], list[int]]:
        """(input rows, label ids) of one example's tokens (`</s>` appended here, as fastText reads a line)."""
        rows: list[int] = []
        labels: list[int] = []
        hashes: list[int] = []
        cache = self._tokens
        for token in [*tokens, EOS]:
            known = cache.get(token)
            if known is None:
                if len(cache) >= TOKEN_CACHE_SIZE:
                    cache.clear()  # bounded: a long stream of documents brings ever new tokens
                known = cache[token] = self._token_entry(token)
            kind, value, token_hash = known
            if kind == 1:
                labels.append(value)
                continue
            if kind == 2:
                continue
            rows.extend(value)
            hashes.append(token_hash)
        if self.args.word_ngrams > 1 and self.args.bucket > 0:
            for b in word_ngram_buckets(hashes, self.args.word_ngrams, self.args.bucket):
                self._push(rows, b)
        return rows, labels

    def _token_entry(self, token: str) -> tuple[int, object, int]:
        """(0, input rows, hash) for a word, (1, label id, 0) for a known label, (2, None, 0) for an unknown one."""
        wid = self.index.get(token, -1)
        if wid >= self.nwords:
            return 1, wid - self.nwords, 0
        if wid < 0 and token.startswith(LABEL_PREFIX):
            return 2, None, 0
        if wid >= 0:
            rows = tuple(self.word_rows(wid)) if self.args.maxn > 0 else (wid,)
        else:
            found: list[int] = []
            if token != EOS:
                self._ngrams(token, found)
            rows = tuple(found)
        return 0, rows, fnv1a_hash(token)

    # -- prediction --
    def probabilities(self, text: str) -> np.ndarray:
        """P(label) for every label (softmax, or each label's logistic for ova/ns); empty input: zeros."""
        rows, _ = self.encode(tokenize(text))
        if not rows:
            return np.zeros(len(self.labels), dtype=np.float32)
        hidden = self.input[rows].mean(axis=0, dtype=np.float32)
        scores = self.output @ hidden
        if self.args.loss == "softmax":
            exp = np.exp(scores - scores.max())
            return (exp / exp.sum()).astype(np.float32)
        if self.tree is not None:
            return tree_probabilities(self.tree, scores)
        from corpuskit.embeddings.supervised_kernels import table_sigmoid

        return table_sigmoid(scores)

    def predict(self, text: str, k: int = 1, threshold: float = 0.0) -> list[tuple[str, float]]:
        """The k most probable labels (k=-1: all) with P >= threshold, best first, as fastText's predict."""
        probs = self.probabilities(text)
        order = np.argsort(-probs, kind="stable")
        if k >= 0:
            order = order[:k]
        return [(self.labels[i], float(probs[i])) for i in order if probs[i] >= threshold]

    def test(self, texts: Iterable[str], k: int = 1, threshold: float = 0.0) -> dict[str, float]:
        """fastText's `test`: over texts that have labels, P@k = correct / predicted, R@k = correct / gold."""
        examples = predicted = correct = gold = 0
        for text in texts:
            tokens = tokenize(text)
            _, labels = self.encode(tokens)
            if not labels:
                continue
            words = [t for t in tokens if not t.startswith(LABEL_PREFIX)]
            predictions = self.predict(" ".join(words), k, threshold)
            truth = {self.labels[i] for i in labels}
            examples += 1
            gold += len(truth)
            predicted += len(predictions)
            correct += sum(1 for label, _ in predictions if label in truth)
        return {
            "examples": examples,
            "precision": correct / predicted if predicted else float("nan"),
            "recall": correct / gold if gold else float("nan"),
        }

    # -- files --
    def save(self, path: str | Path) -> None:
        """Write fastText's binary format (quantized `.ftz` layout when the model is quantized)."""
        write_fasttext(path, self.file)

    @classmethod
    def load(cls, path: str | Path) -> "SupervisedModel":
        """Read a fastText supervised `.bin`/`.ftz` (ours or fastText's)."""
        file = read_fasttext(path)
        try:
            return cls(file)
        except ValueError as exc:
            raise ModelFileError(path, "a supervised fastText model with softmax, ova or ns loss", str(exc)) from None

    def quantize(self, cutoff: int = 0, dsub: int = 2, qnorm: bool = False, qout: bool = False, seed: int = 1) -> "SupervisedModel":
        """A product-quantized copy (see `corpuskit.embeddings.quantize`); `cutoff` keeps that many input rows."""
        from corpuskit.embeddings.quantize import quantize_model

        return SupervisedModel(quantize_model(self.file, cutoff=cutoff, dsub=dsub, qnorm=qnorm, qout=qout, seed=seed))


# ---- the trainer -----------------------------------------------------------------------------


@dataclass
class SupervisedConfig:
    """fastText supervised settings (defaults as `fasttext supervised`).

    dim: size of word vectors
    lr: initial learning rate, falling linearly to 0
    epoch: passes over the corpus
    word_ngrams: longest word n-gram (2: bigrams hashed into buckets)
    min_count: fewest occurrences of a kept word
    min_count_label: fewest occurrences of a kept label
    minn: shortest character n-gram (with maxn > 0)
    maxn: longest character n-gram (0: no subwords)
    bucket: hash rows shared by word and character n-grams
    loss: softmax (one label per text), ova (one-vs-all, multi-label), ns (negative sampling) or hs (hierarchical softmax)
    neg: negatives drawn per example with loss ns
    threads: Hogwild threads over chunks of examples (1: reproducible)
    seed: initialisation, shuffling and sampling seed
    shuffle: visit examples in a seeded random order each epoch (fastText reads in file order)
    chunk_examples: examples per job handed to a thread
    """

    dim: int = 100
    lr: float = 0.1
    epoch: int = 5
    word_ngrams: int = 1
    min_count: int = 1
    min_count_label: int = 0
    minn: int = 0
    maxn: int = 0
    bucket: int = 2_000_000
    loss: Literal["softmax", "ova", "ns", "hs"] = "softmax"
    neg: int = 5
    threads: int = 1
    seed: int = 1
    shuffle: bool = True
    chunk_examples: int = 2_000


@dataclass
class EpochReport:
    epoch: int
    loss: float
    tokens: int
    seconds: float

    @property
    def words_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("inf")


class SupervisedTrainer(Trainer):
    """Trains a fastText classifier; labels are `__label__` tokens inside each text."""

    name: ClassVar[str] = "fasttext-supervised"
    config_class: ClassVar[type] = SupervisedConfig
    counts_class: ClassVar[type[Counts]] = SupervisedCounts
    counting_fields: ClassVar[tuple[str, ...]] = ()
    needs_corpus_after_counting: ClassVar[bool] = True

    def __init__(self, config: SupervisedConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.history: list[EpochReport] = []  # one report per epoch of the last training

    def validate_config(self) -> None:
        c = self.config
        checks = [
            (c.dim > 0, "dim must be positive"),
            (c.epoch > 0, "epoch must be positive"),
            (c.lr > 0, "lr must be positive"),
            (c.word_ngrams >= 1, "word_ngrams must be >= 1"),
            (c.min_count >= 1, "min_count must be >= 1"),
            (c.bucket >= 0, "bucket must be >= 0"),
            (c.maxn == 0 or 1 <= c.minn <= c.maxn, "need maxn == 0 or 1 <= minn <= maxn"),
            (c.neg >= 1, "neg must be >= 1"),
            (c.threads >= 1, "threads must be >= 1"),
            (c.chunk_examples >= 1, "chunk_examples must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def _count(self, texts: Iterable[str], progress: bool) -> SupervisedCounts:
        counter: Counter = Counter()
        n = 0
        for text in texts:
            counter.update(tokenize(text))
            counter[EOS] += 1
            n += 1
        return SupervisedCounts.from_counter(self.counting_config(), counter, n)

    def _dictionary(self, counts: SupervisedCounts) -> tuple[list[str], np.ndarray, np.ndarray]:
        c = self.config
        items = list(zip(counts.tokens, counts.counts.tolist()))
        words = [(t, n) for t, n in items if not t.startswith(LABEL_PREFIX) and n >= c.min_count]
        labels = [(t, n) for t, n in items if t.startswith(LABEL_PREFIX) and n >= c.min_count_label]
        if not labels:
            raise ValueError(f"no `{LABEL_PREFIX}` labels in the corpus: a supervised model needs labelled texts")
        words.sort(key=lambda x: (-x[1], x[0]))
        labels.sort(key=lambda x: (-x[1], x[0]))
        entries = words + labels
        types = np.array([0] * len(words) + [1] * len(labels), dtype=np.int8)
        return [t for t, _ in entries], np.array([n for _, n in entries], dtype=np.int64), types

    def _train_from_counts(self, counts: Counts, corpus: Iterable[str] | None) -> SupervisedModel:
        from corpuskit.embeddings.supervised_encode import encode_corpus
        from corpuskit.embeddings.supervised_kernels import LOSS_KINDS, SIGMOID_TABLE, train_examples
        from corpuskit.embeddings.vocab import negative_table

        assert isinstance(counts, SupervisedCounts) and corpus is not None
        c = self.config
        words, entry_counts, types = self._dictionary(counts)
        nwords = int((types == 0).sum())
        bucket = c.bucket if (c.word_ngrams > 1 or c.maxn > 0) else 0
        args = Args(dim=c.dim, epoch=c.epoch, min_count=c.min_count, neg=c.neg, word_ngrams=c.word_ngrams, loss=c.loss, model="supervised",
                    bucket=bucket, minn=c.minn if c.maxn > 0 else 0, maxn=c.maxn, lr_update_rate=100, t=1e-4)
        rng = np.random.default_rng(c.seed)
        win = rng.random((nwords + bucket, c.dim), dtype=np.float32)  # uniform in [-1/dim, 1/dim], as fastText, in place
        win -= 0.5
        win *= 2.0 / c.dim
        wout = np.zeros((len(words) - nwords, c.dim), dtype=np.float32)
        file = FastTextModel(args, words, entry_counts, types, int(counts.counts.sum()), win, wout, None)
        model = SupervisedModel(file)  # encodes the corpus; its input/output are win/wout themselves
        row_offsets, rows, label_offsets, labels, weights = encode_corpus(model, corpus)
        n_examples = row_offsets.size - 1
        total = float(max(1, int(weights.sum())) * c.epoch)
        neg_table = negative_table(entry_counts[nwords:], 0.5)
        kind = LOSS_KINDS[c.loss]
        paths = label_paths(label_tree(entry_counts[nwords:])) if c.loss == "hs" else (np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int8))
        self.history = []
        done = 0.0
        with ThreadPoolExecutor(max_workers=c.threads) as pool:
            for epoch in range(c.epoch):
                order = np.random.default_rng([c.seed, epoch]).permutation(n_examples) if c.shuffle else np.arange(n_examples)
                order = order.astype(np.int64)
                chunks = [order[i : i + c.chunk_examples] for i in range(0, n_examples, c.chunk_examples)]
                starts = np.concatenate([[0.0], np.cumsum([weights[ch].sum() for ch in chunks])])[:-1] + done
                seeds = np.random.default_rng([c.seed, epoch, 1]).integers(1, 2**62, size=len(chunks))

                def work(i: int) -> tuple[float, int]:
                    return train_examples(chunks[i], row_offsets, rows, label_offsets, labels, weights, win, wout, kind, c.neg, neg_table,
                                          c.lr, float(starts[i]), total, int(seeds[i]), SIGMOID_TABLE, *paths)

                began = time.perf_counter()
                results = list(pool.map(work, range(len(chunks)))) if c.threads > 1 else [work(i) for i in range(len(chunks))]
                seconds = time.perf_counter() - began
                tokens = int(weights.sum())
                done += tokens
                used = sum(r[1] for r in results)
                report = EpochReport(epoch + 1, sum(r[0] for r in results) / max(1, used), tokens, seconds)
                self.history.append(report)
                log.info("epoch %d: loss %.4f, %.0f words/s", report.epoch, report.loss, report.words_per_second)
        return SupervisedModel(file)


def train_classifier(texts: Iterable[str], **options: Any) -> SupervisedModel:
    """Shorthand: `SupervisedTrainer(**options).train(texts)` (texts must be re-iterable)."""
    model = SupervisedTrainer(**options).train(texts)
    assert isinstance(model, SupervisedModel)
    return model


