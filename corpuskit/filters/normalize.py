"""Text normalisation: Unicode form, control characters, whitespace, invalid UTF-8 policy."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from corpuskit.document import Document, Drop
from corpuskit.steps import Step

# Readers keep undecodable bytes as surrogate escapes (U+DC80..U+DCFF); JSON may carry any lone
# surrogate. Both are "invalid UTF-8" as far as the output is concerned.
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0/C1 controls and DEL, except tab and newline (carriage returns are folded into newlines).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")  # any run of whitespace other than newline
_BLANK_RUNS = re.compile(r"\n{3,}")


class Normalize(Step):
    """Normalise a document's text; drop it if nothing is left.

    - `form`: Unicode normalisation, 'NFC' (default), 'NFKC' (also folds compatibility
      characters such as full-width letters and ligatures), or 'none'.
    - `invalid_utf8`: what to do with undecodable bytes and lone surrogates: 'replace' with
      U+FFFD (default), 'strip' them, 'drop' the document (reason `invalid_utf8`), or 'error'
      (the document is counted as errored).
    - `remove_controls`: delete control characters other than tab and newline.
    - `whitespace`: 'collapse' runs of spaces/tabs to one space, strip every line and keep at
      most one blank line between paragraphs; 'strip' only the ends; 'keep' as is.
    """

    name = "normalize"

    def __init__(
        self,
        form: Literal["NFC", "NFKC", "none"] = "NFC",
        invalid_utf8: Literal["replace", "strip", "drop", "error"] = "replace",
        remove_controls: bool = True,
        whitespace: Literal["collapse", "strip", "keep"] = "collapse",
    ) -> None:
        self.form = form
        self.invalid_utf8 = invalid_utf8
        self.remove_controls = remove_controls
        self.whitespace = whitespace

    def process(self, doc: Document) -> Document | Drop:
        text = doc.text
        if _SURROGATES.search(text):
            self.count("invalid_utf8_documents")
            if self.invalid_utf8 == "drop":
                return Drop("invalid_utf8")
            if self.invalid_utf8 == "error":
                raise ValueError(f"document {doc.id!r} holds invalid UTF-8 (undecodable bytes or lone surrogates)")
            text = _SURROGATES.sub("\ufffd" if self.invalid_utf8 == "replace" else "", text)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.remove_controls:
            text = _CONTROLS.sub("", text)
        if self.form != "none":
            text = unicodedata.normalize(self.form, text)
        if self.whitespace == "collapse":
            text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
            text = _BLANK_RUNS.sub("\n\n", text).strip()
        elif self.whitespace == "strip":
            text = text.strip()
        if not text.strip():
            return Drop("empty_after_normalize")
        doc.text = text
        return doc
