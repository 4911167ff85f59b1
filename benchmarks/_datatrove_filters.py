"""Run datatrove's quality filters on a JSONL of texts; print one JSON decision line per document.

Runs under datatrove's own venv (never the project's): bench_filters.py starts it as
`$DATATROVE_PYTHON benchmarks/_datatrove_filters.py IN.jsonl OUT.jsonl`. Each output line:
{"id", "<filter>": reason or null (kept), "c4_text": the text C4 kept}, then a final
{"seconds": {filter: seconds}} line.
"""

import json
import sys
import time

from datatrove.data import Document
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter


def decide(step, doc):
    result = step.filter(doc)
    if result is True:
        return None
    return result[1] if isinstance(result, tuple) else "dropped"


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    steps = {
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "c4": C4QualityFilter(),
        "fineweb": FineWebQualityFilter(),
    }
    for step in steps.values():  # load spaCy outside the timing
        decide(step, Document(text="Warm up. The tokenizer loads here.", id="w"))
    rows = [{"id": r["id"]} for r in records]
    seconds = {}
    for name, step in steps.items():
        start = time.perf_counter()
        for row, r in zip(rows, records):
            doc = Document(text=r["text"], id=r["id"])
            row[name] = decide(step, doc)
            if name == "c4" and row[name] is None:
                row["c4_text"] = doc.text
        seconds[name] = time.perf_counter() - start
    with open(target, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
        handle.write(json.dumps({"seconds": seconds}) + "\n")


if __name__ == "__main__":
    main()
