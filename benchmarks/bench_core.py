"""Core benchmarks: reader throughput, pipeline memory at 1x and 8x input, runner overhead.

    .venv/bin/python benchmarks/bench_core.py [--quick]

Anchors, run side by side in this process:
- readers: the same libraries with no framework around them (gzip + json.loads; pyarrow's
  own batch iterator; fastwarc + resiliparse in a bare loop), so the ratio is our overhead;
- WARC extraction quality: our text against the main text the crawl's ground truth records
  (`crawl/pages.jsonl.gz`), as word-level F1 and the share of boilerplate words kept;
- memory: peak RSS of `corpuskit pipeline run` on the English documents and on 8 copies;
- runner overhead: a pipeline of five trivial steps against a plain read-then-write loop.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record, shared_data, timed  # noqa: E402

from corpuskit.readers import read_corpus  # noqa: E402
from corpuskit.writers.jsonl import JsonlWriter  # noqa: E402

CORPUSKIT = str(Path(sys.executable).with_name("corpuskit"))
COMMAND = "python benchmarks/bench_core.py"


def bench_readers(work: Path) -> None:
    import pyarrow.parquet as pq

    jsonl = shared_data("en/docs.jsonl.gz")
    size_mb = len(gzip.decompress(jsonl.read_bytes())) / 2**20
    parquet = work / "docs.parquet"
    import pyarrow as pa

    records = [json.loads(line) for line in gzip.open(jsonl, "rt", encoding="utf-8")]
    pq.write_table(pa.table({"id": [r["id"] for r in records], "text": [r["text"] for r in records]}), parquet)
    n_docs = len(records)
    del records

    def ours(path: Path) -> int:
        return sum(1 for _ in read_corpus(str(path)))

    def plain_jsonl() -> int:
        with gzip.open(jsonl, "rt", encoding="utf-8") as handle:
            return sum(1 for line in handle if json.loads(line)["text"] is not None)

    def plain_parquet() -> int:
        batches = pq.ParquetFile(parquet).iter_batches(batch_size=1024, columns=["id", "text"])
        return sum(len(b.to_pydict()["text"]) for b in batches)

    rows = []
    for name, mine, anchor in (("JSONL.gz", lambda: ours(jsonl), plain_jsonl), ("Parquet", lambda: ours(parquet), plain_parquet)):
        t_ours, count = timed(mine, repeat=3)
        t_anchor, count_anchor = timed(anchor, repeat=3)
        assert count == count_anchor == n_docs, (count, count_anchor, n_docs)
        rows.append([name, n_docs, f"{size_mb / t_ours:.1f}", f"{n_docs / t_ours:,.0f}", f"{n_docs / t_anchor:,.0f}", t_ours / t_anchor])

    warc = shared_data("crawl/local-crawl.warc.gz")
    warc_mb = warc.stat().st_size / 2**20

    def plain_warc() -> int:
        from fastwarc.warc import ArchiveIterator, WarcRecordType
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        pages = 0
        for rec in ArchiveIterator(open(warc, "rb"), record_types=WarcRecordType.response, parse_http=True, auto_decode="all"):
            if rec.http_headers.status_code == 200 and (rec.http_content_type or "").startswith("text/html"):
                body = rec.reader.read()
                extract_plain_text(bytes_to_str(body, rec.http_charset or detect_encoding(body, from_html_meta=True)), main_content=True)
                pages += 1
        return pages

    t_ours, pages = timed(lambda: ours(warc), repeat=3)
    t_anchor, pages_anchor = timed(plain_warc, repeat=3)
    rows.append(["WARC (pages)", pages, f"{warc_mb / t_ours:.1f} (gz)", f"{pages / t_ours:,.0f}", f"{pages_anchor / t_anchor:,.0f}", t_ours / t_anchor])
    record(
        "Core readers: throughput against the bare libraries",
        ["format", "documents", "ours MB/s", "ours docs/s", "bare loop docs/s", "time ratio ours/bare"],
        rows,
        COMMAND,
        "Bare loops: gzip+json.loads; pyarrow iter_batches; fastwarc+resiliparse with auto_decode. "
        f"Corpus: en/docs.jsonl.gz ({n_docs:,} docs, {size_mb:.1f} MB uncompressed) and crawl/local-crawl.warc.gz.",
    )
    bench_warc_quality(warc)


def _words(text: str) -> Counter:
    return Counter(text.lower().split())


def bench_warc_quality(warc: Path) -> None:
    truth = {}
    with gzip.open(shared_data("crawl/pages.jsonl.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            page = json.loads(line)
            if page.get("main_text"):
                truth[page["url"]] = page
    f1s, kept_boiler, by_kind = [], [], Counter()
    matched = 0
    for doc in read_corpus(str(warc)):
        page = truth.get(doc.metadata["url"])
        if page is None:
            continue
        matched += 1
        ours, gold = _words(doc.text), _words(page["main_text"])
        overlap = sum((ours & gold).values())
        precision = overlap / max(1, sum(ours.values()))
        recall = overlap / max(1, sum(gold.values()))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        kept_boiler.append(1 - precision)
        by_kind[page["kind"]] += 1
    f1s.sort()
    rows = [[matched, f"{sum(f1s) / len(f1s):.3f}", f"{f1s[len(f1s) // 2]:.3f}", f"{f1s[len(f1s) // 10]:.3f}", f"{sum(kept_boiler) / len(kept_boiler):.3f}"]]
    record(
        "WARC main-text extraction quality (the WARC reader's default: resiliparse plus our boilerplate pass) against crawl ground truth",
        ["pages with ground truth", "mean word F1", "median F1", "10th pct F1", "share of extracted words not in main text"],
        rows,
        COMMAND,
        "Ground truth: crawl/pages.jsonl.gz main_text (title + body paragraphs). Kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())),
    )


def _pipeline_rss(work: Path, copies: int, workers: int) -> tuple[float, float, int]:
    """Peak RSS (MiB, the largest process) and wall time of `corpuskit pipeline run` on `copies` x the English docs."""
    data = work / f"in{copies}"
    data.mkdir(exist_ok=True)
    source = shared_data("en/docs.jsonl.gz")
    for i in range(copies):
        target = data / f"docs-{i}.jsonl.gz"
        if not target.exists():
            target.symlink_to(source)
    config = work / f"p{copies}-{workers}.yaml"
    config.write_text(
        f"inputs: {{paths: [{data}]}}\n"
        "steps:\n  - normalize: {form: NFKC}\n  - length: {min_words: 50}\n"
        f"output: {{dir: {work / f'out{copies}-{workers}'}, options: {{compression: gz, max_docs: 2000}}}}\n"
        f"executor: {{workers: {workers}, progress: false}}\n"
    )
    code = (
        "import resource, subprocess, sys, time;"
        f"t = time.time(); subprocess.run([{CORPUSKIT!r}, 'pipeline', 'run', {str(config)!r}, '--overwrite', '--no-progress'], check=True, stdout=subprocess.DEVNULL);"
        "print(time.time() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    manifest = json.loads((work / f"out{copies}-{workers}" / "manifest.json").read_text())
    return float(out[1]), float(out[0]), manifest["documents"]


def bench_memory(work: Path, quick: bool) -> None:
    rows = []
    for workers in (1, 2):
        base_rss, base_t, base_docs = _pipeline_rss(work, 1, workers)
        copies = 4 if quick else 8
        big_rss, big_t, big_docs = _pipeline_rss(work, copies, workers)
        assert big_docs == copies * base_docs
        rows.append([workers, f"{base_rss:.0f}", f"{big_rss:.0f} ({copies}x)", f"{100 * (big_rss / base_rss - 1):+.1f}%", f"{4335 / base_t:,.0f}", f"{copies * 4335 / big_t:,.0f}"])
    record(
        "Pipeline peak RSS at 1x and 8x input (target: growth under 20%)",
        ["workers", "peak RSS 1x (MiB)", "peak RSS 8x (MiB)", "growth", "docs/s 1x", "docs/s 8x"],
        rows,
        COMMAND,
        "Peak RSS is the largest single process (the main process or one worker); the 8x input is eight copies of en/docs.jsonl.gz as separate files.",
    )


def bench_overhead(work: Path) -> None:
    source = shared_data("en/docs.jsonl.gz")
    out_plain = work / "plain-out"

    def plain() -> int:
        files = JsonlWriter(compression="gz", max_docs=2000).write_all(read_corpus(str(source)), out_plain, "part-00000")
        return sum(f["documents"] for f in files)

    config = work / "noop.yaml"
    config.write_text(
        f"inputs: {{paths: [{source}]}}\n"
        "steps:\n" + "".join("  - length: {min_chars: 0}\n" for _ in range(5)) + f"output: {{dir: {work / 'noop-out'}, options: {{compression: gz, max_docs: 2000}}}}\n"
        "executor: {workers: 1, progress: false}\n"
    )
    from corpuskit.pipeline import load_config, run_pipeline

    cfg = load_config(config)
    t_plain, n_plain = timed(plain, repeat=3)
    t_runner, summary = timed(lambda: run_pipeline(cfg, overwrite=True), repeat=3)
    assert summary["documents"]["kept"] == n_plain
    record(
        "Runner overhead: five trivial steps through the runner against read-then-write",
        ["documents", "read+write s", "runner s", "ratio runner/plain"],
        [[n_plain, t_plain, t_runner, t_runner / t_plain]],
        COMMAND,
        "Both read en/docs.jsonl.gz with our JSONL reader and write gzip JSONL; the runner adds config, 5 steps (length, min_chars 0), unit markers, summary and manifest.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4x instead of 8x for the memory run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bench_readers(work)
        bench_overhead(work)
        bench_memory(work, args.quick)


if __name__ == "__main__":
    main()
