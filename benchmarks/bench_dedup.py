"""Near-duplicate detection: corpuskit's MinHashDedup against datasketch's MinHash + MinHashLSH.

Data: ../shared/data/dedup/near_dups.jsonl.gz, scored as its README defines: true pairs are the
`duplicate` rows of pairs.jsonl.gz (Jaccard >= 0.8 of word 5-gram shingle sets); predicted pairs
are all pairs inside one cluster. The ideal clustering (connected components of the true pairs)
is printed as the precision ceiling. Also: signature throughput against datasketch's own
`MinHash.update` loop on the same documents and num_perm; the map → reduce step against the
sequential reference (same clusters); and the memory of `corpuskit pipeline run` with
`minhash_dedup` as the set is repeated 1x, 4x and 8x (new ids): the driver's peak RSS, and the
largest worker's (each worker runs map and reduce units; its peak bounds the largest unit's).

Usage: .venv/bin/python benchmarks/bench_dedup.py [--quick] [--no-scaling]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, record, shared_data, timed  # noqa: E402

from corpuskit.dedup.decisions import batched  # noqa: E402
from corpuskit.dedup.minhash import MinHashDedup  # noqa: E402
from corpuskit.dedup.reference import NearDuplicateIndex  # noqa: E402
from corpuskit.dedup.signatures import MinHasher, shingle_set  # noqa: E402
from corpuskit.dedup.unionfind import UnionFind  # noqa: E402


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def cluster_pairs(representatives: list[int] | np.ndarray) -> set[tuple[int, int]]:
    """All pairs (i < j) of ordinals that share a representative."""
    groups: dict[int, list[int]] = defaultdict(list)
    for ordinal, rep in enumerate(representatives):
        groups[int(rep)].append(ordinal)
    return {pair for members in groups.values() if len(members) > 1 for pair in combinations(members, 2)}


def score(predicted: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    hits = len(predicted & truth)
    return (hits / len(predicted) if predicted else 1.0), hits / len(truth)


def components_of(pairs: set[tuple[int, int]], n: int) -> list[int]:
    union = UnionFind()
    for _ in range(n):
        union.add()
    for i, j in pairs:
        union.union(i, j)
    return [union.find(i) for i in range(n)]


def ours(texts: list[str], threshold: float, num_perm: int, hashing: str, verify: bool, shards: int = 4) -> np.ndarray:
    """The map → reduce step's clusters (its units run here one after another), as representatives."""
    import tempfile

    from corpuskit.document import Document
    from corpuskit.steps import GlobalWork

    step = MinHashDedup(threshold=threshold, num_perm=num_perm, ngram=5, hashing=hashing, verify=verify)
    print(f"  corpuskit hashing={hashing} verify={verify}: bands={step.bands} rows={step.rows}")
    bounds = np.linspace(0, len(texts), shards + 1).astype(int)
    parts = [[Document(str(i), texts[i]) for i in range(a, b)] for a, b in zip(bounds, bounds[1:])]
    representative = np.arange(len(texts))
    with tempfile.TemporaryDirectory() as work_dir:
        step.fit([iter(p) for p in parts], Path(work_dir))
        for shard, part in enumerate(parts):
            step.load_shard_state(GlobalWork(Path(work_dir), shards), shard)
            for doc in part:
                if step.process(doc) is not doc:
                    representative[int(doc.id)] = int(doc.metadata["duplicate_of"])
    return representative


def reference(texts: list[str], threshold: float, num_perm: int, hashing: str, verify: bool) -> np.ndarray:
    index = NearDuplicateIndex(threshold=threshold, num_perm=num_perm, ngram=5, hashing=hashing, verify=verify)
    for batch in batched(texts, 512):
        index.add(batch)
    return index.representatives()


def pipeline_memory(records: list[dict], repeats: int, threshold: float, workers: int = 2) -> tuple[float, float, float, int]:
    """Run `corpuskit pipeline run` (minhash_dedup only) over the set repeated `repeats` times with
    new ids; sample the driver's and its workers' RSS every 20 ms. Returns (seconds, driver peak
    MiB, largest worker peak MiB, kept documents)."""
    import subprocess
    import tempfile
    import time

    import psutil

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "in").mkdir()
        for copy in range(repeats):
            for part in range(4):
                with gzip.open(root / "in" / f"r{copy:02d}-{part}.jsonl.gz", "wt", encoding="utf-8") as handle:
                    for r in records[part::4]:
                        handle.write(json.dumps({"id": f"{copy}-{r['id']}", "text": r["text"]}) + "\n")
        (root / "p.yaml").write_text(
            f"inputs:\n  paths: [in/]\nsteps:\n  - minhash_dedup: {{threshold: {threshold}}}\n"
            f"output:\n  dir: out\nexecutor: {{workers: {workers}}}\n"
        )
        started = time.time()
        process = psutil.Popen([sys.executable, "-m", "corpuskit", "pipeline", "run", str(root / "p.yaml"), "--no-progress"], stdout=subprocess.DEVNULL)
        driver = workers_peak = 0
        while process.poll() is None:
            try:
                driver = max(driver, process.memory_info().rss)
                for child in process.children(recursive=True):
                    workers_peak = max(workers_peak, child.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.02)
        seconds = time.time() - started
        if process.returncode != 0:
            sys.exit(f"pipeline run failed with exit code {process.returncode}")
        kept = json.loads((root / "out" / "_run" / "summary.json").read_text())["documents"]["kept"]
    return seconds, driver / 2**20, workers_peak / 2**20, kept


def datasketch_signatures(texts: list[str], num_perm: int) -> list:
    from datasketch import MinHash

    out = []
    for text in texts:
        minhash = MinHash(num_perm=num_perm, seed=1)
        for shingle in shingle_set(text, 5):
            minhash.update(shingle.encode("utf-8"))
        out.append(minhash)
    return out


def datasketch_clusters(minhashes: list, threshold: float, num_perm: int) -> list[int]:
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    union = UnionFind()
    for ordinal, minhash in enumerate(minhashes):
        union.add()
        for other in lsh.query(minhash):
            union.union(ordinal, other)
        lsh.insert(ordinal, minhash, check_duplication=False)
    return [union.find(i) for i in range(len(minhashes))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="signature timing on 500 documents only")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1x/4x/8x pipeline memory runs")
    args = parser.parse_args()

    records = load(shared_data("dedup/near_dups.jsonl.gz"))
    texts = [r["text"] for r in records]
    ordinal = {r["id"]: i for i, r in enumerate(records)}
    truth = set()
    with gzip.open(shared_data("dedup/pairs.jsonl.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            pair = json.loads(line)
            if pair["duplicate"]:
                i, j = sorted((ordinal[pair["a"]], ordinal[pair["b"]]))
                truth.add((i, j))
    ceiling_p, ceiling_r = score(cluster_pairs(components_of(truth, len(texts))), truth)

    # Signature throughput on the same documents.
    timing_texts = texts[:500] if args.quick else texts
    hasher = MinHasher(num_perm=args.num_perm, ngram=5)
    hasher.signatures(timing_texts[:4])  # compile / load the numba cache outside the timing
    t_fast, _ = timed(lambda: [hasher.signatures(b) for b in batched(timing_texts, 512)], repeat=3)
    sha1 = MinHasher(num_perm=args.num_perm, ngram=5, hashing="sha1")
    sha1.signatures(timing_texts[:4])
    t_sha1, _ = timed(lambda: [sha1.signatures(b) for b in batched(timing_texts, 512)], repeat=2)
    t_ds, ds_minhashes = timed(lambda: datasketch_signatures(timing_texts, args.num_perm), repeat=1)
    n_tokens = sum(len(t.split()) for t in timing_texts)

    rows = []
    for label, hashing, verify in [
        ("corpuskit MinHashDedup defaults (fast hash, bottom-512 sketch check)", "fast", True),
        ("corpuskit hashing=sha1, sketch check", "sha1", True),
        ("corpuskit fast hash, no check (plain LSH, datasketch's bands)", "fast", False),
    ]:
        t, reps = timed(lambda: ours(texts, args.threshold, args.num_perm, hashing, verify))
        t_ref, ref_reps = timed(lambda: reference(texts, args.threshold, args.num_perm, hashing, verify))
        same = "yes" if np.array_equal(reps, ref_reps) else f"NO ({int((reps != ref_reps).sum())} differ)"
        p, r = score(cluster_pairs(reps), truth)
        rows.append([label, f"{p:.4f}", f"{r:.4f}", f"{p / ceiling_p:.3f}", f"{t:.2f}", f"{t_ref:.2f}", same])
    if not args.quick:
        print(f"  datasketch: MinHashLSH(threshold={args.threshold}, num_perm={args.num_perm}), components of query results")
        t, reps = timed(lambda: datasketch_clusters(ds_minhashes, args.threshold, args.num_perm))
        p, r = score(cluster_pairs(reps), truth)
        rows.append(["datasketch MinHash.update + MinHashLSH", f"{p:.4f}", f"{r:.4f}", f"{p / ceiling_p:.3f}", f"{t + t_ds:.2f}", "-", "-"])
    rows.append(["ideal: components of true pairs (ceiling)", f"{ceiling_p:.4f}", f"{ceiling_r:.4f}", "1.000", "-", "-", "-"])
    record(
        f"Near-duplicate clustering, near_dups.jsonl.gz ({len(texts)} docs, {len(truth)} true pairs), threshold {args.threshold}, num_perm {args.num_perm}",
        ["method", "precision", "recall", "precision / ceiling", "seconds (map + reduce, 4 shards, one process)", "seconds, sequential reference", "same clusters as the reference"],
        rows,
        "python benchmarks/bench_dedup.py" + (" --quick" if args.quick else ""),
    )
    if not args.no_scaling:
        scaling = []
        for repeats in (1, 4, 8):
            seconds, driver, worker, kept = pipeline_memory(records, repeats, args.threshold)
            scaling.append([f"{repeats}x", f"{repeats * len(records):,}", f"{kept:,}", f"{seconds:.1f}", f"{driver:.0f}", f"{worker:.0f}"])
        record(
            f"minhash_dedup in `corpuskit pipeline run`, near_dups.jsonl.gz repeated with new ids, 2 workers",
            ["input", "documents", "kept", "seconds", "driver peak RSS MiB", "largest worker peak RSS MiB"],
            scaling,
            "python benchmarks/bench_dedup.py",
            notes="The driver holds no per-document data (flat). A worker's peak is that of the largest unit it ran: "
            "a band's link task holds 16 bytes per document of its key range plus the sketches of documents that share a bucket.",
        )
    record(
        f"MinHash signatures, {len(timing_texts)} docs, {n_tokens:,} words, num_perm {args.num_perm}, 5-gram shingles",
        ["method", "seconds", "docs/s", "speed-up vs datasketch update loop"],
        [
            ["datasketch MinHash.update loop (sha1)", f"{t_ds:.2f}", f"{len(timing_texts) / t_ds:,.0f}", "1.0x"],
            ["corpuskit hashing=sha1 (same signatures)", f"{t_sha1:.2f}", f"{len(timing_texts) / t_sha1:,.0f}", f"{t_ds / t_sha1:.1f}x"],
            ["corpuskit hashing=fast (numba)", f"{t_fast:.3f}", f"{len(timing_texts) / t_fast:,.0f}", f"{t_ds / t_fast:.1f}x"],
        ],
        "python benchmarks/bench_dedup.py" + (" --quick" if args.quick else ""),
        notes=f"Shared 2-core machine, figures noisy; compare ratios. Peak RSS {peak_rss_mb():.0f} MiB.",
    )


if __name__ == "__main__":
    main()
