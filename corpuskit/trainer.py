"""The contracts every trainer plugin (tokenizers, embeddings, language models) keeps.

Training is map → merge → reduce: `count(texts) -> Counts` runs on any shard, anywhere;
`Counts.merge` combines shards in any order with the same result; `train_from_counts(counts)`
turns the merged counts into a `Model`. `train(corpus)` is their composition. A trainer that
learns from prepared token shards instead of counts (`counts_class = None`) overrides `train` alone.

A trainer is registered under the `corpuskit.trainers` entry-point group. Its options are the
fields of a config dataclass (`config_class`); they are type-checked on construction, and the
generic `corpuskit train NAME` CLI is built from them. The trainer keeps a deep copy of the
config it was given, so training never changes the caller's object.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.modelfile import ModelFileError, load_arrays, save_arrays
from corpuskit.pipeline.params import ParamError, describe, matches

__all__ = ["Counts", "CountsMismatchError", "Model", "ModelFileError", "ParamError", "Trainer", "config_differences"]


class CountsMismatchError(CorpusError, ValueError):
    """Counts made under different counting configs, merged or handed to a trainer; names the keys."""


class Model(ABC):
    """A trained artifact that round-trips through a file (JSON, npz or safetensors; never pickle)."""

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the model to `path`, atomically."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> "Model":
        """Read a model written by `save`; a bad or foreign file is a ModelFileError."""


class Counts(ABC):
    """What a trainer learns from, counted over part of a corpus; shards merge into the whole.

    `config` is the counting config that made the counts (JSON-able, canonical); counts made
    under different configs never mix. Subclasses keep their entries in a canonical order and
    their counts as 64-bit integers, so `merge` is associative and commutative *to the byte*:
    merging shards in any order gives equal counts, equal files and equal models.

    Subclasses set `format` (and `version` when the layout changes) and implement `_merged`,
    `_to_arrays` and `_from_arrays`; `save`/`load` go through `corpuskit.modelfile`.
    """

    format: ClassVar[str]
    version: ClassVar[int] = 1

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config: dict[str, Any] = canonical(dict(config))

    def merge(self, other: "Counts") -> "Counts":
        """A new Counts holding both; neither input changes. Different configs: CountsMismatchError."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(self).__name__} with {type(other).__name__}")
        differences = config_differences(self.config, other.config)
        if differences:
            raise CountsMismatchError(f"cannot merge {type(self).__name__} made under different counting configs: {'; '.join(differences)}")
        return self._merged(other)

    @classmethod
    def merge_all(cls, counts: Iterable["Counts"]) -> "Counts":
        """Merge any number of shards' counts (at least one), in the order given."""
        items = list(counts) if not isinstance(counts, list) else counts
        if not items:
            raise ValueError("merge_all needs at least one Counts")
        return functools.reduce(lambda a, b: a.merge(b), items)

    def save(self, path: str | Path) -> None:
        """Write an npz file: the entries as arrays, the config and totals as JSON metadata."""
        arrays, meta = self._to_arrays()
        save_arrays(path, self.format, self.version, arrays, {"config": self.config, **meta})

    @classmethod
    def load(cls, path: str | Path) -> "Counts":
        """Read counts written by `save`; a bad, foreign or newer file is a ModelFileError."""
        arrays, meta = load_arrays(path, cls.format, cls.version)
        if not isinstance(meta.get("config"), dict):
            raise ModelFileError(path, f"a {cls.format} file", "no counting config in its metadata")
        try:
            return cls._from_arrays(arrays, meta, meta["config"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ModelFileError(path, f"a consistent {cls.format} file", f"{type(exc).__name__}: {exc}") from None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Counts)
        if self.config != other.config:
            return False
        (a, meta_a), (b, meta_b) = self._to_arrays(), other._to_arrays()
        return meta_a == meta_b and a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)

    __hash__ = None  # type: ignore[assignment]  # mutable container

    @abstractmethod
    def _merged(self, other: "Counts") -> "Counts":
        """The merge of two counts of this type with equal configs (a new object, canonical order)."""

    @abstractmethod
    def _to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, JSON-able metadata without the config) that `_from_arrays` reads back."""

    @classmethod
    @abstractmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], config: dict[str, Any]) -> "Counts":
        """Rebuild from `_to_arrays`'s output; raise KeyError/ValueError on inconsistent data."""


class Trainer(ABC):
    """Turns texts into a Model: `count` → `Counts.merge` → `train_from_counts`, or `train` alone.

    Class attributes a trainer sets:
      name           the registry name (`corpuskit.trainers` entry point), e.g. "bpe"
      config_class   a dataclass; its fields are the trainer's options (and CLI flags)
      counts_class   the Counts subclass `count` returns, or None for a trainer that learns
                     from prepared token shards and overrides `train` alone
      counting_fields  the config fields counting depends on (default: all of them)
      needs_corpus_after_counting  True when training reads the corpus again (word2vec):
                     `train_from_counts(counts, corpus)`
      input_kind     "texts" (default: `train` takes an iterable of texts) or "path" (a trainer
                     without counts whose `train` takes one prepared folder, e.g. token shards)
    and implements `_count(texts, progress)` and `_train_from_counts(counts, corpus)`.
    """

    name: ClassVar[str]
    config_class: ClassVar[type]
    counts_class: ClassVar[type[Counts] | None] = None
    counting_fields: ClassVar[tuple[str, ...] | None] = None
    needs_corpus_after_counting: ClassVar[bool] = False
    input_kind: ClassVar[str] = "texts"  # "path": train() takes one prepared folder or file, not texts

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        """Build `self.config` from a config instance (deep-copied) and/or keyword options, checked.

        `config` is positional-only, so a trainer may have an option named `config`.

        A wrong type, an unknown option or a failed `validate_config` is a ParamError naming the
        trainer and the option.
        """
        owner = getattr(type(self), "name", type(self).__name__)
        self.config = build_config(self.config_class, config, options, owner)
        if self.counts_class is None and type(self).train is Trainer.train:
            raise TypeError(f"trainer {owner!r} has no counts_class and does not override train()")
        try:
            self.validate_config()
        except ParamError:
            raise
        except ValueError as exc:  # a plugin's own check: still an option error naming the trainer
            raise ParamError(f"trainer {owner!r}: {exc}") from None

    def validate_config(self) -> None:
        """Check values beyond their types (ranges, combinations); raise ValueError naming the option.

        Any ValueError raised here reaches the caller as a ParamError naming the trainer.
        """

    def counting_config(self) -> dict[str, Any]:
        """The part of the config that decides the counts (JSON-able); counts carry it."""
        fields = self.counting_fields if self.counting_fields is not None else [f.name for f in dataclasses.fields(self.config)]
        return canonical({name: getattr(self.config, name) for name in fields})

    def count(self, texts: Iterable[str], progress: bool = False) -> Counts:
        """Count a stream of texts (one shard or the whole corpus, read once) under this config."""
        if self.counts_class is None:
            raise TypeError(f"trainer {self.name!r} learns from prepared shards and has no counting stage; call train()")
        return self._count(texts, progress)

    def train_from_counts(self, counts: Counts, corpus: Iterable[str] | None = None) -> Model:
        """Train from (merged) counts; counts made under another counting config are refused.

        `corpus` is required, and read again, when `needs_corpus_after_counting` is set.
        """
        if self.counts_class is None:
            raise TypeError(f"trainer {self.name!r} learns from prepared shards, not from counts; call train()")
        if not isinstance(counts, self.counts_class):
            raise TypeError(f"trainer {self.name!r} trains from {self.counts_class.__name__}, got {type(counts).__name__}")
        differences = config_differences(counts.config, self.counting_config())
        if differences:
            raise CountsMismatchError(f"trainer {self.name!r}: the counts were made under another counting config: {'; '.join(differences)} (counts vs trainer)")
        if self.needs_corpus_after_counting and corpus is None:
            raise TypeError(f"trainer {self.name!r} reads the corpus again after counting: call train_from_counts(counts, corpus)")
        return self._train_from_counts(counts, corpus if self.needs_corpus_after_counting else None)

    def train(self, corpus: Iterable[str], progress: bool = False) -> Model:
        """Count the corpus, then train from the counts (shard-based trainers override this)."""
        if self.needs_corpus_after_counting and iter(corpus) is corpus:
            raise TypeError(f"trainer {self.name!r} reads the corpus twice: pass a re-iterable corpus (a list, or an object whose __iter__ restarts), not an iterator")
        counts = self.count(corpus, progress)
        return self.train_from_counts(counts, corpus if self.needs_corpus_after_counting else None)

    def _count(self, texts: Iterable[str], progress: bool) -> Counts:
        raise NotImplementedError(f"trainer {self.name!r} sets counts_class but does not implement _count")

    def _train_from_counts(self, counts: Counts, corpus: Iterable[str] | None) -> Model:
        raise NotImplementedError(f"trainer {self.name!r} sets counts_class but does not implement _train_from_counts")


def build_config(config_class: type, config: Any, options: Mapping[str, Any], owner: str) -> Any:
    """A checked deep copy of `config` (an instance of `config_class`, or None) with `options` applied."""
    if not dataclasses.is_dataclass(config_class):
        raise TypeError(f"trainer {owner!r}: config_class must be a dataclass, got {config_class!r}")
    fields = {f.name: f for f in dataclasses.fields(config_class) if f.init}
    for key in options:
        if key not in fields:
            raise ParamError(f"trainer {owner!r}: unknown option {key!r}; options: {', '.join(fields) or 'none'}")
    if config is None:
        values: dict[str, Any] = {}
    elif isinstance(config, config_class):
        values = {name: getattr(config, name) for name in fields}
    else:
        raise ParamError(f"trainer {owner!r}: config must be a {config_class.__name__}, got {type(config).__name__}")
    values.update(options)
    hints = typing.get_type_hints(config_class)
    for name, value in values.items():
        values[name] = check_option(owner, name, value, hints.get(name, Any))
    try:
        return config_class(**copy.deepcopy(values))
    except (TypeError, ValueError) as exc:  # __post_init__ checks of the dataclass itself
        raise ParamError(f"trainer {owner!r}: {exc}") from None


def check_option(owner: str, name: str, value: Any, hint: Any) -> Any:
    """`value` if it fits `hint` (tuples accepted for lists, ints for floats), else a ParamError."""
    if isinstance(value, tuple) and _is_list_hint(hint):
        value = list(value)
    if not matches(value, hint):
        raise ParamError(f"trainer {owner!r}: option {name!r} must be {describe(hint)}, got {value!r} ({type(value).__name__})")
    if isinstance(value, int) and not isinstance(value, bool) and float in _flat(hint) and int not in _flat(hint):
        return float(value)
    return value


def _flat(hint: Any) -> tuple[Any, ...]:
    """The members of a union hint (the hint itself otherwise)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(a for arg in typing.get_args(hint) for a in _flat(arg))
    return (hint,)


def _is_list_hint(hint: Any) -> bool:
    return any(h is list or typing.get_origin(h) is list for h in _flat(hint))


def canonical(value: Any) -> Any:
    """`value` as JSON would give it back (tuples → lists, keys → str), so configs compare after a file round trip."""
    return json.loads(json.dumps(value, sort_keys=True, ensure_ascii=False))


def config_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two counting configs: ["lowercase: True vs False", ...]."""
    missing = object()
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, missing), b.get(key, missing)
        if va != vb:
            out.append(f"{key}: {'(absent)' if va is missing else repr(va)} vs {'(absent)' if vb is missing else repr(vb)}")
    return out
