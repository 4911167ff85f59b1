"""Executors: how a list of independent units runs (in this process, a local pool, a cluster).

The pipeline, dedup and counting hand an executor `Unit`s; which executor runs them is a plugin
of the `corpuskit.executors` entry-point group, picked by the config's `executor.kind`.
"""

from corpuskit.executors.base import Executor, Unit, UnitFailed, UnitLoadError, build_executor

__all__ = ["Executor", "Unit", "UnitFailed", "UnitLoadError", "build_executor"]
