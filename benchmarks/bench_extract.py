"""Main-text extraction from HTML: word-level precision, recall, F1 and pages/s, ours against trafilatura.

Pages: the crawl's HTML pages that have a ground-truth main text (crawl/pages.jsonl.gz: title and
body paragraphs), decoded as WarcReader decodes them; optionally, real article pages with
hand-checked bodies from a local checkout of scrapinghub/article-extraction-benchmark
(ARTICLE_BENCHMARK_DIR, holding html/*.html.gz and ground-truth.json; not shipped here).

Methods, on the same decoded HTML strings: trafilatura as datatrove's Trafilatura extractor calls
it (favor_precision, deduplicate, no comments; in its own venv, TRAFILATURA_PYTHON or
DATATROVE_PYTHON, through benchmarks/_trafilatura_extract.py), resiliparse's main-content
extraction alone (our reader before the boilerplate pass), ours (resiliparse + BoilerplatePass),
and ours + HostChrome (learnt over the same pages, then applied). Words are lower-cased
whitespace tokens; P/R/F1 are per page, averaged over pages. Speed is CPU seconds (best of 3),
since the machine is shared; wall-clock figures are in the notes.

Usage: TRAFILATURA_PYTHON=/path/to/datatrove-venv/bin/python [ARTICLE_BENCHMARK_DIR=...] \
       .venv/bin/python benchmarks/bench_extract.py
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record, shared_data  # noqa: E402

from corpuskit.readers.extract import BoilerplatePass, HostChrome, extract_main_text  # noqa: E402

REPEAT = 3


def decode(body: bytes, charset: str | None) -> str:
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return bytes_to_str(body, charset or detect_encoding(body, from_html_meta=True))


def crawl_pages() -> list[dict]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    truth = {}
    with gzip.open(shared_data("crawl/pages.jsonl.gz"), "rt", encoding="utf-8") as handle:
        for page in map(json.loads, handle):
            if page.get("main_text"):
                truth[page["url"]] = page["main_text"]
    pages = []
    with open(shared_data("crawl/local-crawl.warc.gz"), "rb") as raw:
        for rec in ArchiveIterator(raw, record_types=WarcRecordType.response, parse_http=True):
            url = rec.headers.get("WARC-Target-URI")
            if url in truth:
                pages.append({"url": url, "html": decode(rec.reader.read(), rec.http_charset), "truth": truth[url]})
    return pages


def article_pages(folder: Path) -> list[dict]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in sorted(truth.items()):
        body = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        pages.append({"url": item["url"], "html": decode(body, None), "truth": item["articleBody"]})
    return pages


def scores(texts: list[str], pages: list[dict]) -> tuple[float, float, float]:
    p_sum = r_sum = f_sum = 0.0
    for text, page in zip(texts, pages):
        ours, gold = Counter(text.lower().split()), Counter(page["truth"].lower().split())
        overlap = sum((ours & gold).values())
        precision = overlap / sum(ours.values()) if ours else 0.0
        recall = overlap / sum(gold.values()) if gold else 0.0
        p_sum += precision
        r_sum += recall
        f_sum += 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n = len(pages)
    return p_sum / n, r_sum / n, f_sum / n


def best_of(fn) -> tuple[float, float, list[str]]:
    """(best CPU seconds, best wall seconds, texts) over REPEAT runs."""
    cpu = wall = float("inf")
    texts: list[str] = []
    for _ in range(REPEAT):
        start, cpu_start = time.perf_counter(), time.process_time()
        texts = fn()
        cpu, wall = min(cpu, time.process_time() - cpu_start), min(wall, time.perf_counter() - start)
    return cpu, wall, texts


def trafilatura(python: str, pages: list[dict]) -> tuple[float, float, list[str], str]:
    work = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    with open(work / "in.jsonl", "w", encoding="utf-8") as handle:
        for page in pages:
            handle.write(json.dumps({"url": page["url"], "html": page["html"]}) + "\n")
    helper = Path(__file__).resolve().parent / "_trafilatura_extract.py"
    subprocess.run([python, str(helper), str(work / "in.jsonl"), str(work / "out.jsonl"), str(REPEAT)], check=True)
    with open(work / "out.jsonl", encoding="utf-8") as handle:
        *rows, last = [json.loads(line) for line in handle]
    return last["cpu_seconds"], last["seconds"], [row["text"] for row in rows], last["version"]


def ours_with_host_chrome(pages: list[dict]) -> list[str]:
    boilerplate = BoilerplatePass()
    texts = [extract_main_text(page["html"], boilerplate) for page in pages]
    chrome = HostChrome()
    hosts = [urlsplit(page["url"]).netloc for page in pages]
    for host, text in zip(hosts, texts):
        chrome.add(host, text)
    return [chrome.clean(host, text) for host, text in zip(hosts, texts)]


def bench(label: str, pages: list[dict], python: str, host_chrome: bool) -> None:
    from resiliparse.extract.html2text import extract_plain_text

    t_cpu, t_wall, t_texts, version = trafilatura(python, pages)
    methods = [
        ("resiliparse main_content alone (reader before this pass)", lambda: [extract_plain_text(p["html"], main_content=True, alt_texts=False, list_bullets=False).strip() for p in pages]),
        ("corpuskit extract_main_text (resiliparse + BoilerplatePass)", lambda: [extract_main_text(p["html"]) for p in pages]),
    ]
    if host_chrome:
        methods.append(("corpuskit + HostChrome (WarcReader host_chrome=True)", lambda: ours_with_host_chrome(pages)))
    rows = [[f"trafilatura {version} (as datatrove runs it)", *(f"{v:.4f}" for v in scores(t_texts, pages)), f"{len(pages) / t_cpu:,.0f}", "1.0"]]
    walls = [f"trafilatura {len(pages) / t_wall:,.0f}"]
    for name, fn in methods:
        cpu, wall, texts = best_of(fn)
        rows.append([name, *(f"{v:.4f}" for v in scores(texts, pages)), f"{len(pages) / cpu:,.0f}", f"{t_cpu / cpu:.1f}"])
        walls.append(f"{name.split(' (')[0]} {len(pages) / wall:,.0f}")
    record(
        f"Main-text extraction vs trafilatura: {label} ({len(pages)} pages)",
        ["method", "precision", "recall", "word F1", "pages/s (CPU)", "speed / trafilatura"],
        rows,
        "TRAFILATURA_PYTHON=/path/to/datatrove-venv/bin/python [ARTICLE_BENCHMARK_DIR=...] .venv/bin/python benchmarks/bench_extract.py",
        notes=(
            "Same decoded HTML strings for every method; words are lower-cased whitespace tokens, scores averaged over "
            f"pages. Speed: best of {REPEAT} runs in CPU seconds of one process (shared 2-core machine); wall-clock pages/s: "
            + ", ".join(walls) + "."
        ),
    )


def main() -> None:
    python = os.environ.get("TRAFILATURA_PYTHON") or os.environ.get("DATATROVE_PYTHON")
    if not python:
        sys.exit("set TRAFILATURA_PYTHON (or DATATROVE_PYTHON) to the python of a venv holding trafilatura")
    bench("the shared crawl's pages with ground truth", crawl_pages(), python, host_chrome=True)
    folder = os.environ.get("ARTICLE_BENCHMARK_DIR")
    if folder:
        # Every page is from another site, so HostChrome has nothing to learn there.
        bench("real article pages (scrapinghub/article-extraction-benchmark, local checkout)", article_pages(Path(folder)), python, host_chrome=False)


if __name__ == "__main__":
    main()
