"""Global steps in a pipeline: map → reduce units in parallel, resumable at any unit."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from corpuskit.dedup.reference import NearDuplicateIndex
from corpuskit.pipeline import load_config, run_pipeline
from corpuskit.readers import read_corpus

STEPS = "  - exact_dedup: {}\n  - minhash_dedup: {threshold: 0.7, num_perm: 64}\n"


def make_corpus(folder: Path, files: int = 4, seed: int = 0) -> list[tuple[str, str]]:
    """Files of clustered near-duplicates and exact copies, spread over the files."""
    rng = np.random.default_rng(seed)
    bases = [[f"w{i}" for i in rng.choice(10**6, size=int(rng.integers(20, 80)), replace=False)] for _ in range(15)]
    records = []
    for i in range(120):
        words = list(bases[int(rng.integers(len(bases)))])
        for pos in rng.choice(len(words), size=int(rng.integers(0, 4)), replace=False):
            words[pos] = f"e{i}-{pos}"
        records.append((f"r{i}", " ".join(words)))
    folder.mkdir(parents=True)
    for f in range(files):
        with gzip.open(folder / f"in-{f}.jsonl.gz", "wt", encoding="utf-8") as handle:
            for doc_id, text in records[f::files]:
                handle.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    return [r for f in range(files) for r in records[f::files]]  # corpus order: file by file


def config(tmp_path: Path, out: str, workers: int) -> Path:
    path = tmp_path / f"{out}.yaml"
    path.write_text(f"inputs:\n  paths: [in/*.jsonl.gz]\nsteps:\n{STEPS}output:\n  dir: {out}\nexecutor: {{workers: {workers}}}\n")
    return path


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("part-*"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("reference")
    records = make_corpus(tmp_path / "in")
    summary = run_pipeline(load_config(config(tmp_path, "out", workers=1)))
    return tmp_path, records, summary


def test_decisions_equal_the_sequential_reference(reference):
    tmp_path, records, summary = reference
    texts = [text for _, text in records]
    exact_first = {}
    survivors = [i for i, t in enumerate(texts) if exact_first.setdefault(" ".join(t.lower().split()), i) == i]
    index = NearDuplicateIndex(threshold=0.7, num_perm=64)
    index.add([texts[i] for i in survivors])
    reps = index.representatives()
    expected = [records[i][0] for k, i in enumerate(survivors) if reps[k] == k]
    kept = [d.id for d in read_corpus(str(tmp_path / "out"))]
    assert kept == expected
    assert summary["documents"]["kept"] == len(expected) < len(records) - 20
    assert summary["counters"]["minhash_dedup"]["links"] > 0


def test_workers_give_the_same_output_and_summary(reference):
    ref_path, _, ref_summary = reference
    summary = run_pipeline(load_config(config(ref_path, "out-workers", workers=2)))
    assert outputs(ref_path / "out-workers") == outputs(ref_path / "out")
    for key in ("documents", "dropped", "counters", "funnel"):
        assert summary[key] == ref_summary[key]


def test_resume_after_a_crash_at_any_unit_gives_the_uninterrupted_output(reference):
    """A crash leaves some units' markers (in the order they finished) and any files; resuming
    must rebuild exactly the reference output, whatever was left."""
    ref_path, _, ref_summary = reference
    path = config(ref_path, "out-crash", workers=1)
    run_pipeline(load_config(path))
    out = ref_path / "out-crash"
    markers = sorted((out / "_run" / "units").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    rng = np.random.default_rng(5)
    for crash_after in sorted(set(rng.integers(0, len(markers), size=5).tolist())):
        for marker in markers[crash_after:]:
            marker.unlink(missing_ok=True)
        if crash_after % 2:  # a half-written output file of the next unit, as a kill would leave
            (out / "part-00001-0000.jsonl.gz").write_bytes(b"\x1f\x8b partial")
        summary = run_pipeline(load_config(path), resume=True)
        assert outputs(out) == outputs(ref_path / "out"), crash_after
        assert summary["documents"] == ref_summary["documents"]
        markers = sorted((out / "_run" / "units").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
