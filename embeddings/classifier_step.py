"""`quality_classifier` pipeline step: keep documents a fastText classifier scores high enough (DCLM / FineWeb-Edu style).

    steps:
      - quality_classifier: {model: quality.bin, label: positive, threshold: 0.5}

The score is P(`label`) for the document's text with its whitespace runs joined by spaces (one
example, as `corpuskit classifier train` trained it), written to `metadata[metadata_key]`. The
model is any fastText supervised `.bin`/`.ftz` (ours or fastText's), read by
`corpuskit.embeddings.supervised`, loaded once per worker on first use.
Time per document: O(tokens * rows per token * dim + labels * dim).
"""

from __future__ import annotations

import re

from corpuskit.document import Document
from corpuskit.embeddings.fasttext_format import LABEL_PREFIX
from corpuskit.steps import Filter

_WHITESPACE = re.compile(r"\s+")


def as_line(text: str) -> str:
    """A document as one classifier example: every whitespace run (newlines included) becomes one space."""
    return _WHITESPACE.sub(" ", text).strip()


class QualityClassifier(Filter):
    """Drop documents whose P(`label`) is below `threshold` ("quality_below_threshold"); empty ones as "quality_no_words"."""

    name = "quality_classifier"

    def __init__(self, model: str = "", label: str = "positive", threshold: float = 0.5, metadata_key: str = "quality_score") -> None:
        if not model:
            raise ValueError("quality_classifier: `model` (path of a fastText supervised .bin/.ftz) is required")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"quality_classifier: threshold must be within [0, 1], got {threshold}")
        self.model_path = model
        self.label = label if label.startswith(LABEL_PREFIX) else LABEL_PREFIX + label
        self.threshold = threshold
        self.metadata_key = metadata_key
        self._model = None

    def _loaded(self):
        if self._model is None:
            from corpuskit.embeddings.supervised import SupervisedModel

            model = SupervisedModel.load(self.model_path)
            if self.label not in model.labels:
                raise ValueError(f"quality_classifier: {self.model_path} has no label {self.label!r} (labels: {', '.join(model.labels)})")
            self._index = model.labels.index(self.label)
            self._model = model
        return self._model

    def score(self, text: str) -> float:
        """P(label) for a document's text (0 for a text without tokens)."""
        model = self._loaded()
        return float(model.probabilities(as_line(text))[self._index])

    def drop_reason(self, doc: Document) -> str | None:
        model = self._loaded()
        line = as_line(doc.text)
        if not line:
            return "quality_no_words"
        score = float(model.probabilities(line)[self._index])
        doc.metadata[self.metadata_key] = round(score, 5)
        return None if score >= self.threshold else "quality_below_threshold"
