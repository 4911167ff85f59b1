"""The pipeline: a validated YAML config, a resumable runner, a run summary and report."""

from corpuskit.pipeline.config import ConfigError, PipelineConfig, load_config
from corpuskit.pipeline.runner import run_pipeline

__all__ = ["ConfigError", "PipelineConfig", "load_config", "run_pipeline"]
