"""`corpuskit dedup`: near-duplicate removal as a standalone command (two passes over the input).

Kept cheap to import: the MinHash machinery loads when the command runs.
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
@click.option("--on-error", default="raise", show_default=True, type=click.Choice(["raise", "skip"]), help="Broken input records: stop, or log and skip.")
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
    progress: bool,
) -> None:
    """Remove near-duplicate documents, keeping the first of each cluster.

    Example: corpuskit dedup data/*.jsonl.gz --output-dir deduped --threshold 0.8
    """
    from tqdm import tqdm

    from corpuskit.dedup.minhash import NearDuplicateIndex, batched
    from corpuskit.files import atomic_write
    from corpuskit.readers import read_corpus
    from corpuskit.writers import write_manifest
    from corpuskit.writers.jsonl import JsonlWriter

    def corpus():
        docs = read_corpus(list(inputs), on_error=on_error, text_field=text_field, id_field=id_field)
        return tqdm(docs, unit=" docs", disable=not progress)

    index = NearDuplicateIndex(threshold=threshold, num_perm=num_perm, ngram=ngram, seed=seed, lowercase=lowercase, sketch_size=sketch_size)
    ids: list[str] = []
    for batch in batched(corpus(), 512):
        ids.extend(doc.id for doc in batch)
        index.add([doc.text for doc in batch])
    representatives = index.representatives()

    changed = click.ClickException("the input changed between the two passes; rerun on files nobody is writing")
    seen = [0]

    def kept():
        for ordinal, doc in enumerate(corpus()):
            if ordinal >= len(representatives) or doc.id != ids[ordinal]:
                raise changed
            seen[0] = ordinal + 1
            if representatives[ordinal] == ordinal:
                yield doc

    out = Path(output_dir)
    files = JsonlWriter(compression=compression).write_all(kept(), out, "dedup")
    if seen[0] != len(ids):
        raise changed
    removed = 0
    with atomic_write(out / "duplicates.jsonl", "w") as handle:
        for ordinal, rep in enumerate(representatives):
            if rep != ordinal:
                handle.write(json.dumps({"id": ids[ordinal], "duplicate_of": ids[rep]}, ensure_ascii=False) + "\n")
                removed += 1
    params = {"threshold": threshold, "num_perm": num_perm, "ngram": ngram, "sketch_size": sketch_size, "seed": seed, "lowercase": lowercase, "bands": index.bands, "rows": index.rows}
    write_manifest(out, files, {"dedup": {**params, "input_documents": len(ids), "removed": removed}})
    click.echo(f"{len(ids)} documents, {removed} near-duplicates removed, {len(ids) - removed} kept in {out} (bands={index.bands}, rows={index.rows})")
