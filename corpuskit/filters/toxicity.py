"""Toxicity: a word-list density score, and optionally a fastText classifier the user brings.

Lexicon: one word or phrase a line, matched case-insensitively on word boundaries; the score is
matches per word. Classifier: any fastText supervised model (e.g. Dolma's Jigsaw classifiers),
read with the predict-only fasttext package; the probability of `model_label` is the score.
Memory: the lexicon's pattern and the model, once per process.
"""

from __future__ import annotations

from functools import lru_cache

import re

from corpuskit.document import Document
from corpuskit.filters.fasttext_models import load_fasttext, predict
from corpuskit.filters.text_stats import load_word_list
from corpuskit.steps import Filter


_WORD = re.compile(r"\w+")


class Lexicon:
    """A word list split for speed: single words are looked up in a set of the text's lower-cased
    `\\w+` tokens; phrases and entries with other characters go through one regex, on word
    boundaries, case-insensitive. Both count each occurrence.
    """

    def __init__(self, entries: frozenset[str], source: str) -> None:
        if not entries:
            raise ValueError(f"{source}: no entries")
        self.words = frozenset(e for e in entries if _WORD.fullmatch(e))
        others = sorted(entries - self.words, key=lambda e: (-len(e), e))
        alternation = "|".join(re.escape(e).replace(r"\ ", r"\s+") for e in others)
        self.phrases = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE) if others else None
        # The phrase regex runs only on texts holding the first word of some phrase.
        firsts = [_WORD.findall(e.lower()) for e in others]
        self.always_scan = any(not f for f in firsts)
        self.phrase_starts = frozenset(f[0] for f in firsts if f)

    def count(self, text: str) -> int:
        """Occurrences of lexicon entries in `text`."""
        words = self.words
        tokens = _WORD.findall(text.lower())
        found = sum(1 for token in tokens if token in words)
        if self.phrases is not None and (self.always_scan or not self.phrase_starts.isdisjoint(tokens)):
            found += sum(1 for _ in self.phrases.finditer(text))
        return found


@lru_cache(maxsize=8)
def load_lexicon(lexicon_file: str | None) -> Lexicon:
    """The lexicon at `lexicon_file` (None: corpuskit's default English list), once per process."""
    return Lexicon(load_word_list(lexicon_file, "toxicity_en.txt"), lexicon_file or "default lexicon")


class ToxicityFilter(Filter):
    """Drop documents scoring as toxic; store the scores in metadata.

    `metadata["toxicity_lexicon"]` = lexicon matches / words; dropped ("toxicity_lexicon") when
    at least `min_matches` matches and the density is at least `max_density`. With
    `model_path`, `metadata["toxicity_model"]` = P(`model_label`), dropped
    ("toxicity_classifier") at `model_threshold` or above.
    """

    name = "toxicity"

    def __init__(
        self,
        lexicon_file: str | None = None,
        max_density: float = 0.01,
        min_matches: int = 2,
        model_path: str | None = None,
        model_label: str = "toxic",
        model_threshold: float = 0.5,
    ) -> None:
        self.lexicon_file = lexicon_file
        self.max_density = max_density
        self.min_matches = min_matches
        self.model_path = model_path
        self.model_label = model_label.removeprefix("__label__")
        self.model_threshold = model_threshold
        self.lexicon = load_lexicon(lexicon_file)
        self.model = load_fasttext(model_path) if model_path else None

    def lexicon_score(self, text: str) -> tuple[int, float]:
        """(matches, matches per whitespace word)."""
        matches = self.lexicon.count(text)
        words = len(text.split())
        return matches, (matches / words if words else 0.0)

    def model_score(self, text: str) -> float:
        """Probability the classifier gives `model_label` (0 when it is not among its top labels)."""
        scores = dict(predict(self.model, text, k=-1))
        return scores.get(self.model_label, 0.0)

    def drop_reason(self, doc: Document) -> str | None:
        matches, density = self.lexicon_score(doc.text)
        doc.metadata["toxicity_lexicon"] = round(density, 5)
        if matches:
            self.count("toxicity_lexicon_matches", matches)
        if matches >= self.min_matches and density >= self.max_density:
            return "toxicity_lexicon"
        if self.model is not None:
            score = self.model_score(doc.text)
            doc.metadata["toxicity_model"] = round(score, 5)
            if score >= self.model_threshold:
                return "toxicity_classifier"
        return None
