"""The small contract every trainer plugin (tokenizers, embeddings, language models) keeps.

A trainer is registered under the `corpuskit.trainers` entry-point group. It has a `name`, a
config dataclass, and `train(corpus) -> model`; the model it returns can `save` itself and be
loaded back with the classmethod `load`. Counting is a separate function in each plugin so that
precomputed (even distributed) counts can feed the same trainer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable


@runtime_checkable
class Model(Protocol):
    """A trained artifact that round-trips through a file (JSON, npz or safetensors; never pickle)."""

    def save(self, path: str | Path) -> None: ...

    @classmethod
    def load(cls, path: str | Path) -> "Model": ...


@runtime_checkable
class Trainer(Protocol):
    """Turns a stream of texts into a Model.

    `config_class` is a dataclass whose fields are the trainer's keyword arguments; `config`
    holds this trainer's values. `train` consumes the corpus once or a few times (say which in
    the trainer's docstring) and must not hold it in memory.
    """

    name: ClassVar[str]
    config_class: ClassVar[type]
    config: Any

    def train(self, corpus: Iterable[str]) -> Model: ...
