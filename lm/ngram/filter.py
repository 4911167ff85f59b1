"""`perplexity` pipeline step: drop documents an n-gram model finds too surprising (CCNet-style)."""

from __future__ import annotations

import math

from corpuskit.document import Document
from corpuskit.steps import Filter


class PerplexityFilter(Filter):
    """Drop documents whose perplexity under `model` (ARPA or native npz) is above `max_perplexity`.

    Each line of a document is scored as one sentence (with `<s>`, `</s>`); the document's
    perplexity (OOVs included) goes to `doc.metadata[metadata_key]`. Empty documents are dropped
    as "perplexity_no_words". The model is loaded once per worker, on first use.
    """

    name = "perplexity"

    def __init__(self, model: str = "", max_perplexity: float = 1000.0, lowercase: bool = False, metadata_key: str = "perplexity") -> None:
        if not model:
            raise ValueError("perplexity: `model` (path of an .arpa/.arpa.gz or .npz n-gram model) is required")
        self.model_path = model
        self.max_perplexity = max_perplexity
        self.lowercase = lowercase
        self.metadata_key = metadata_key
        self._model = None

    def _loaded(self):
        if self._model is None:
            from corpuskit.lm.ngram.model import NGramModel

            self._model = NGramModel.load(self.model_path)
        return self._model

    def drop_reason(self, doc: Document) -> str | None:
        text = doc.text.lower() if self.lowercase else doc.text
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            return "perplexity_no_words"
        ppl = self._loaded().evaluate(lines).perplexity
        doc.metadata[self.metadata_key] = round(ppl, 2) if math.isfinite(ppl) else ppl
        return "perplexity_too_high" if ppl > self.max_perplexity else None
