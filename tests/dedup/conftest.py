"""Running a dedup step's map → reduce units over shards of documents, as the pipeline does."""

from __future__ import annotations

import pytest

from corpuskit.document import Document


def run_shards(step, shards, directory):
    """Fit `step` over `shards` (lists of Documents), then process every shard in a fresh step
    that loads only that shard's decisions, as a pipeline worker would. Returns the results per
    shard (Document or Drop)."""
    from corpuskit.steps import GlobalWork

    step.fit([iter(shard) for shard in shards], directory)
    results = []
    for index, shard in enumerate(shards):
        worker = type(step)(**step_params(step))
        worker.load_shard_state(GlobalWork(directory, len(shards)), index)
        results.append([worker.process(Document(d.id, d.text, dict(d.metadata))) for d in shard])
    return results


def step_params(step):
    import inspect

    return {name: getattr(step, name) if hasattr(step, name) else getattr(step.hasher, name) for name in inspect.signature(type(step).__init__).parameters if name != "self"}


@pytest.fixture
def dedup_run(tmp_path):
    counter = iter(range(10**6))

    def run(step, shards):
        return run_shards(step, shards, tmp_path / f"run{next(counter)}")

    return run
