"""Extract main text with trafilatura as datatrove's Trafilatura extractor calls it.

Runs under the venv that holds trafilatura (never the project's): bench_extract.py starts it as
`$TRAFILATURA_PYTHON benchmarks/_trafilatura_extract.py IN.jsonl OUT.jsonl [REPEAT]`. Input lines:
{"url", "html"}; output lines {"url", "text"}, then {"seconds", "cpu_seconds": total extraction wall and CPU time, "version"}.
"""

import json
import sys
import time
from importlib.metadata import version

from trafilatura import extract
from trafilatura.deduplication import LRU_TEST


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as handle:
        pages = [json.loads(line) for line in handle]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    extract("<html><body><p>Warm up the parser.</p></body></html>")
    seconds = cpu = float("inf")
    for _ in range(repeat):  # best of `repeat`, as the benchmark times ours
        LRU_TEST.clear()  # deduplicate=True remembers text seen earlier in the process: start each run afresh
        start, cpu_start = time.perf_counter(), time.process_time()
        # datatrove.pipeline.extractors.Trafilatura defaults: favour_precision=True, deduplicate=True, no comments
        texts = [extract(p["html"], favor_precision=True, include_comments=False, deduplicate=True) or "" for p in pages]
        seconds, cpu = min(seconds, time.perf_counter() - start), min(cpu, time.process_time() - cpu_start)
    with open(target, "w", encoding="utf-8") as handle:
        for page, text in zip(pages, texts):
            handle.write(json.dumps({"url": page["url"], "text": text}) + "\n")
        handle.write(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "version": version("trafilatura")}) + "\n")


if __name__ == "__main__":
    main()
