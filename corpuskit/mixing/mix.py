"""Temperature sampling of languages: keep each language l with a share ∝ n_l^(1/T).

T = 1 keeps the corpus's own proportions; a large T brings the languages close to uniform
(as far as the smaller ones have documents); T < 1 favours the large ones. The sample is
`target_documents` documents (or `fraction` of the corpus); a language that has fewer
documents than its share asks for keeps them all, and the rest of the target goes to the others
in proportion to their weights.

Map → reduce: every document gets a 64-bit key, a hash of (seed, document id), so the outcome
depends on neither the shards nor the workers. A shard's map writes, per language, a histogram of
its documents' keys over 2^16 bins (the key's top 16 bits); one reduce adds the shards up and
picks per language a bin threshold that keeps at most its quota (the threshold is a bin edge, so
the number kept is known exactly and the shares in the summary are the achieved ones); a
document is kept when its key's bin is below its language's threshold.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from corpuskit.document import CorpusError, Document, Drop
from corpuskit.files import write_json_atomic
from corpuskit.steps import GlobalStep, GlobalWork, ReduceTask

BINS = 1 << 16
RATES_FORMAT = "corpuskit.mix-thresholds/1"


def sample_key(seed: int, doc_id: str) -> int:
    """The document's 64-bit sampling key: BLAKE2b of (seed, id), independent of where it is read."""
    digest = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8, key=str(seed).encode()).digest()
    return int.from_bytes(digest, "big")


def temperature_quotas(counts: dict[str, int], temperature: float, target: int) -> dict[str, float]:
    """Documents to keep per language: ∝ n_l^(1/T), none above n_l, summing to min(target, total).

    Water-filling: languages whose share exceeds what they have keep everything and the rest
    of the target is shared among the others by their weights (`whole_quotas` rounds them). {'en': 900, 'fr': 100}, T=1,
    target 500 -> {'en': 450, 'fr': 50}. O(languages^2) at worst.
    """
    weights = {lang: float(n) ** (1.0 / temperature) for lang, n in counts.items() if n > 0}
    quotas = {lang: 0.0 for lang in counts}
    remaining = float(min(target, sum(counts.values())))
    open_langs = set(weights)
    while open_langs and remaining > 0:
        total = sum(weights[lang] for lang in open_langs)
        full = {lang for lang in open_langs if remaining * weights[lang] / total >= counts[lang]}
        if not full:
            for lang in open_langs:
                quotas[lang] = remaining * weights[lang] / total
            break
        for lang in full:
            quotas[lang] = float(counts[lang])
            remaining -= counts[lang]
        open_langs -= full
    return quotas


def whole_quotas(quotas: dict[str, float], counts: dict[str, int]) -> dict[str, int]:
    """Quotas rounded to whole documents with the same total (largest remainders first, ties by
    language), never above a language's count: {'a': 1.5, 'b': 1.5} -> {'a': 2, 'b': 1}."""
    whole = {lang: int(q + 1e-9) for lang, q in quotas.items()}
    missing = int(round(sum(quotas.values()))) - sum(whole.values())
    by_remainder = sorted(quotas, key=lambda lang: (-(quotas[lang] - whole[lang]), lang))
    for lang in by_remainder:
        if missing <= 0:
            break
        if whole[lang] < counts[lang]:
            whole[lang] += 1
            missing -= 1
    return whole


def _fold(histograms: dict[str, np.ndarray], pending: dict[str, array]) -> None:
    for lang, bins in pending.items():
        counts = np.bincount(np.frombuffer(bins, dtype=np.uint16), minlength=BINS).astype(np.int64)
        histograms[lang] = histograms[lang] + counts if lang in histograms else counts
    pending.clear()


class TemperatureMix(GlobalStep):
    """Sample documents per language with probability ∝ n_l^(1/T), up to a target size.

    Parameters: `temperature` (T > 0), exactly one of `target_documents` and `fraction` (of the
    documents that reach the step), `seed`, `lang_key` (the metadata key `langid` writes), and
    `unlabelled`: the bucket for documents without a language (None drops them as
    "mix_no_language"). Drop reason of the unsampled: "mix_not_sampled".
    Reduce counters: "input: <lang>", "kept: <lang>" and "share_ppm: <lang>" (the achieved share
    of the kept documents, in parts per million).
    Memory: map, 2^16 counters (512 KB) per language of its shard; reduce, the same per language;
    a worker, one threshold per language.
    """

    name = "mix"

    def __init__(
        self,
        temperature: float = 1.0,
        target_documents: int | None = None,
        fraction: float | None = None,
        seed: int = 0,
        lang_key: str = "lang",
        unlabelled: str | None = None,
    ) -> None:
        if temperature <= 0:
            raise ValueError(f"mix: temperature must be > 0, not {temperature}")
        if (target_documents is None) == (fraction is None):
            raise ValueError("mix: give exactly one of target_documents and fraction")
        if target_documents is not None and target_documents < 0:
            raise ValueError(f"mix: target_documents must be >= 0, not {target_documents}")
        if fraction is not None and not 0 <= fraction <= 1:
            raise ValueError(f"mix: fraction must be in [0, 1], not {fraction}")
        self.temperature = temperature
        self.target_documents = target_documents
        self.fraction = fraction
        self.seed = seed
        self.lang_key = lang_key
        self.unlabelled = unlabelled
        self.thresholds: dict[str, int] | None = None

    def language(self, doc: Document) -> str | None:
        lang = doc.metadata.get(self.lang_key)
        return str(lang) if lang not in (None, "") else self.unlabelled

    def map(self, docs: Iterable[Document], out: Path) -> None:
        histograms: dict[str, np.ndarray] = {}
        pending: dict[str, array] = {}
        waiting = 0
        for doc in docs:
            lang = self.language(doc)
            if lang is None:
                continue
            pending.setdefault(lang, array("H")).append(sample_key(self.seed, doc.id) >> 48)
            waiting += 1
            if waiting >= BINS:  # fold into the histograms: memory stays bounded per language
                _fold(histograms, pending)
                waiting = 0
        _fold(histograms, pending)
        langs = sorted(histograms)
        write_json_atomic(out / "languages.json", langs)
        np.save(out / "histograms.npy", np.stack([histograms[lang] for lang in langs]) if langs else np.zeros((0, BINS), dtype=np.int64))

    def reduce_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        return [[ReduceTask("thresholds", "thresholds")]]

    def reduce(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        """Add the shards' histograms, compute quotas, cut each language's keys at a bin edge."""
        totals: dict[str, np.ndarray] = {}
        for shard in range(work.n_shards):
            langs = json.loads((work.map_dir(shard) / "languages.json").read_text(encoding="utf-8"))
            histograms = np.load(work.map_dir(shard) / "histograms.npy", allow_pickle=False)
            for lang, row in zip(langs, histograms):
                totals[lang] = totals.get(lang, 0) + row
        counts = {lang: int(h.sum()) for lang, h in totals.items()}
        total = sum(counts.values())
        target = self.target_documents if self.target_documents is not None else int(round(self.fraction * total))
        quotas = whole_quotas(temperature_quotas(counts, self.temperature, target), counts)
        thresholds, kept = {}, {}
        for lang, histogram in sorted(totals.items()):
            cumulative = np.cumsum(histogram)
            # the largest bin edge b with (documents in bins < b) <= quota
            edge = int(np.searchsorted(cumulative, quotas[lang], side="right"))
            thresholds[lang] = edge
            kept[lang] = int(cumulative[edge - 1]) if edge > 0 else 0
        write_json_atomic(out / "thresholds.json", {"format": RATES_FORMAT, "thresholds": thresholds})
        kept_total = sum(kept.values())
        counters = {}
        for lang in sorted(totals):
            counters[f"input: {lang}"] = counts[lang]
            counters[f"kept: {lang}"] = kept[lang]
            counters[f"share_ppm: {lang}"] = round(1e6 * kept[lang] / kept_total) if kept_total else 0
        return counters

    def load_shard_state(self, work: GlobalWork, shard: int) -> None:
        path = work.task_dir("thresholds") / "thresholds.json"
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorpusError(f"{path}: no mix thresholds; run the step's map and reduce first") from None
        if not isinstance(state, dict) or state.get("format") != RATES_FORMAT:
            raise CorpusError(f"{path}: expected a {RATES_FORMAT} file")
        self.thresholds = state["thresholds"]

    def process(self, doc: Document) -> Document | Drop:
        if self.thresholds is None:
            raise CorpusError("mix: no thresholds loaded; run fit() or the pipeline's map and reduce first")
        lang = self.language(doc)
        if lang is None:
            return Drop("mix_no_language")
        if (sample_key(self.seed, doc.id) >> 48) < self.thresholds.get(lang, 0):
            return doc
        return Drop("mix_not_sampled")
