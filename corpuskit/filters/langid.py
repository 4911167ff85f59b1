"""Language identification with fastText's lid.176 model, offline; keep allowed languages."""

from __future__ import annotations

from corpuskit.document import Document
from corpuskit.filters.fasttext_models import default_lid_model_path, load_fasttext, predict
from corpuskit.steps import Filter


class LanguageFilter(Filter):
    """Store `metadata["lang"]` (ISO 639 code, e.g. 'en') and `metadata["lang_score"]`, then filter.

    `languages` None keeps every language (annotation only). Reasons: langid_no_text,
    langid_low_score (best score below `min_score`), langid_not_allowed. `max_chars` bounds the
    text given to the model (the start of long documents decides). The model loads once per
    process, on first use.
    """

    name = "langid"

    def __init__(
        self,
        languages: list[str] | None = None,
        min_score: float = 0.65,
        model_path: str | None = None,
        max_chars: int | None = 10_000,
    ) -> None:
        self.languages = None if languages is None else frozenset(languages)
        self.min_score = min_score
        self.model_path = model_path
        self.max_chars = max_chars
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = load_fasttext(self.model_path or default_lid_model_path())
        return self._model

    def detect(self, text: str) -> tuple[str, float] | None:
        """(language, probability) of the text, or None when it has no words."""
        found = predict(self.model, text[: self.max_chars] if self.max_chars else text)
        return found[0] if found else None

    def drop_reason(self, doc: Document) -> str | None:
        found = self.detect(doc.text)
        if found is None:
            return "langid_no_text"
        lang, score = found
        doc.metadata["lang"] = lang
        doc.metadata["lang_score"] = round(score, 4)
        self.count(f"lang_{lang}")
        if score < self.min_score:
            return "langid_low_score"
        if self.languages is not None and lang not in self.languages:
            return "langid_not_allowed"
        return None
