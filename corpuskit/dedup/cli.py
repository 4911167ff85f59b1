"""`corpuskit dedup`: near-duplicate removal as a standalone command.

It runs a one-step pipeline (`minhash_dedup`) through the same map → reduce units and executor
as `corpuskit pipeline run`, then lists the removed documents. Kept cheap to import: the
pipeline and MinHash machinery load when the command runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("dedup")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--output-dir", "-o", required=True, type=click.Path(file_okay=False), help="Folder for kept documents, manifest.json and duplicates.jsonl.")
@click.option("--threshold", default=0.8, show_default=True, type=click.FloatRange(0.0, 1.0, min_open=True), help="Jaccard of word n-gram shingle sets.")
@click.option("--num-perm", default=128, show_default=True, type=click.IntRange(2), help="MinHash permutations (more: better precision and recall, slower).")
@click.option("--ngram", default=5, show_default=True, type=click.IntRange(1), help="Words per shingle.")
@click.option("--sketch-size", default=512, show_default=True, type=click.IntRange(1), help="Bottom-k sketch checking each LSH candidate (exact Jaccard up to this many shingles).")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--lowercase/--keep-case", default=False, show_default=True, help="Lower-case words before shingling.")
@click.option("--text-field", default="text", show_default=True, help="JSONL/Parquet field holding the text.")
@click.option("--id-field", default="id", show_default=True, help="JSONL/Parquet field holding the id.")
@click.option("--compression", default="gz", show_default=True, type=click.Choice(["gz", "zst", "none"]))
@click.option("--on-error", default="raise", show_default=True, type=click.Choice(["raise", "skip"]), help="Broken input records: stop, or count and skip.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Local worker processes (map and reduce units run in parallel).")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in the output folder.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def dedup(
    inputs: tuple[str, ...],
    output_dir: str,
    threshold: float,
    num_perm: int,
    ngram: int,
    sketch_size: int,
    seed: int,
    lowercase: bool,
    text_field: str,
    id_field: str,
    compression: str,
    on_error: str,
    workers: int,
    overwrite: bool,
    resume: bool,
    progress: bool,
) -> None:
    """Remove near-duplicate documents, keeping the first of each cluster.

    Example: corpuskit dedup data/*.jsonl.gz --output-dir deduped --threshold 0.8
    """
    from corpuskit.document import CorpusError
    from corpuskit.files import atomic_write
    from corpuskit.pipeline.cli import _run_with_progress
    from corpuskit.pipeline.config import parse_config
    from corpuskit.pipeline.plan import RunLayout
    from corpuskit.writers import write_manifest

    params = {"threshold": threshold, "num_perm": num_perm, "ngram": ngram, "sketch_size": sketch_size, "seed": seed, "lowercase": lowercase}
    raw = {
        "inputs": {"paths": list(inputs), "options": {"text_field": text_field, "id_field": id_field}},
        "steps": [{"minhash_dedup": params}],
        "output": {"dir": output_dir, "writer": "jsonl", "options": {"compression": compression}},
        "executor": {"kind": "local", "workers": workers},
        "on_error": on_error,
    }
    try:
        config = parse_config(raw, base=Path.cwd(), where="corpuskit dedup")
        summary = _run_with_progress(config, resume, overwrite, progress)
    except (CorpusError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None

    out = Path(output_dir)
    work = RunLayout(out, 2).global_work(1, len(summary["inputs"]))
    removed = 0
    with atomic_write(out / "duplicates.jsonl", "w") as handle:
        for shard in range(work.n_shards):
            decisions = json.loads((work.task_dir(f"decide-{shard:05d}") / "decisions.json").read_text(encoding="utf-8"))
            for doc_id, kept in zip(decisions["ids"], decisions["duplicate_of"]):
                handle.write(json.dumps({"id": doc_id, "duplicate_of": kept}, ensure_ascii=False) + "\n")
                removed += 1
    docs = summary["documents"]
    from corpuskit.dedup.minhash import MinHashDedup

    step = MinHashDedup(**params)
    info = {**params, "bands": step.bands, "rows": step.rows, "input_documents": docs["input"], "removed": removed, "errored": docs["errored"]}
    write_manifest(out, summary["files"], {"summary": "_run/summary.json", "dedup": info})
    skipped = f", {docs['errored']} unreadable records skipped" if docs["errored"] else ""
    click.echo(
        f"{docs['input']} documents, {removed} near-duplicates removed, {docs['kept']} kept in {out}{skipped} "
        f"(bands={step.bands}, rows={step.rows})"
    )
