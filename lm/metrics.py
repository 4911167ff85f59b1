"""Evaluation metrics: perplexity, corpus BLEU (sacrebleu-compatible) and ROUGE-N / ROUGE-L.

Inputs are already tokenised (lists of tokens); BLEU matches sacrebleu with `tokenize="none"`
on the space-joined tokens. Memory: O(length of one sentence pair) besides the running totals.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal


def perplexity(log_probs: Iterable[float], base: float = math.e) -> float:
    """exp of the mean negative log-probability (`base` of the given logs: e, 2 or 10)."""
    total = n = 0
    for lp in log_probs:
        total += lp
        n += 1
    if n == 0:
        raise ValueError("perplexity of no tokens")
    return float(base ** (-total / n))


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class BLEU:
    score: float  # 0..100
    precisions: tuple[float, ...]  # percentages
    brevity_penalty: float
    hyp_len: int
    ref_len: int


def corpus_bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[Sequence[str]]], max_order: int = 4,
                smooth: Literal["none", "floor", "add-k", "exp"] = "exp", smooth_value: float | None = None) -> BLEU:
    """Corpus BLEU (Papineni et al.) with sacrebleu's brevity penalty and smoothing methods.

    `references[j][i]` is the j-th reference of hypothesis i (sacrebleu's layout). The reference
    length of a sentence is the closest to the hypothesis length (shorter on ties).
    Smoothing: 'exp' (sacrebleu default), 'floor' (0.1), 'add-k' (1), 'none'.
    """
    if any(len(r) != len(hypotheses) for r in references):
        raise ValueError("every reference stream needs one reference per hypothesis")
    correct = [0] * max_order
    total = [0] * max_order
    hyp_len = ref_len = 0
    for i, hyp in enumerate(hypotheses):
        refs = [r[i] for r in references]
        hyp_len += len(hyp)
        ref_len += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_order + 1):
            counts = _ngrams(hyp, n)
            best: Counter = Counter()
            for ref in refs:
                best |= _ngrams(ref, n)
            correct[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            total[n - 1] += max(len(hyp) - n + 1, 0)
    precisions = []
    smooth_mteval = 1.0
    effective = max_order if smooth == "none" else max_order
    for n in range(max_order):
        if smooth == "add-k" and n > 0:
            k = 1.0 if smooth_value is None else smooth_value
            precisions.append(100.0 * (correct[n] + k) / (total[n] + k))
        elif total[n] == 0:
            precisions.append(0.0)
        elif correct[n] == 0:
            if smooth == "exp":
                smooth_mteval *= 2
                precisions.append(100.0 / (smooth_mteval * total[n]))
            elif smooth == "floor":
                precisions.append(100.0 * (0.1 if smooth_value is None else smooth_value) / total[n])
            else:
                precisions.append(0.0)
        else:
            precisions.append(100.0 * correct[n] / total[n])
    bp = 1.0 if hyp_len > ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0)
    if any(p == 0 for p in precisions[:effective]) or hyp_len == 0:
        score = 0.0
    else:
        score = bp * math.exp(sum(math.log(p) for p in precisions[:effective]) / effective)
    return BLEU(score, tuple(precisions), bp, hyp_len, ref_len)


@dataclass(frozen=True)
class RougeScore:
    precision: float
    recall: float
    f1: float


def _prf(overlap: float, hyp_total: int, ref_total: int) -> RougeScore:
    p = overlap / hyp_total if hyp_total else 0.0
    r = overlap / ref_total if ref_total else 0.0
    return RougeScore(p, r, 2 * p * r / (p + r) if p + r else 0.0)


def rouge_n(hypothesis: Sequence[str], reference: Sequence[str], n: int = 2) -> RougeScore:
    """ROUGE-N: clipped n-gram overlap over hypothesis (precision) and reference (recall) n-grams."""
    hyp, ref = _ngrams(hypothesis, n), _ngrams(reference, n)
    overlap = sum((hyp & ref).values())
    return _prf(overlap, sum(hyp.values()), sum(ref.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (O(len(a) * len(b)) time, O(len(b)) memory)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(hypothesis: Sequence[str], reference: Sequence[str]) -> RougeScore:
    """ROUGE-L (sentence level): precision and recall of the longest common subsequence, F1."""
    return _prf(lcs_length(hypothesis, reference), len(hypothesis), len(reference))
