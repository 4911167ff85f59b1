"""Generate the quickstart's sample corpus: real news text plus the trouble real corpora hold.

The text is gensim's `lee_background.cor` (300 ABC news articles, shipped in gensim's wheel).
Around it the generator plants what the default pipeline must handle: a small WARC crawl of
HTML pages with navigation and footers (plus a 404, a redirect and an image), exact and near
duplicates, non-English documents, documents with e-mail addresses and phone numbers, junk
pages, a toxic comment, a page of one repeated sentence, a page of short lines, an empty record
and a malformed JSON line. Deterministic for a given seed.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from pathlib import Path

from corpuskit.files import atomic_write

FOREIGN = {
    "de": "Die Stadtverwaltung hat am Montag angekündigt, dass die neue Brücke über den Fluss im nächsten Frühjahr "
    "eröffnet wird. Die Bauarbeiten haben länger gedauert als geplant, weil im Winter das Hochwasser die Baustelle "
    "überflutet hatte. Anwohner hoffen nun auf weniger Verkehr in der Innenstadt.",
    "fr": "Le conseil municipal a annoncé lundi que le nouveau pont sur la rivière ouvrira au printemps prochain. "
    "Les travaux ont duré plus longtemps que prévu, car les inondations de l'hiver ont envahi le chantier. Les "
    "habitants espèrent maintenant moins de circulation dans le centre-ville.",
    "es": "El ayuntamiento anunció el lunes que el nuevo puente sobre el río se abrirá la próxima primavera. Las obras "
    "duraron más de lo previsto porque las inundaciones del invierno anegaron la obra. Los vecinos esperan ahora "
    "menos tráfico en el centro de la ciudad.",
    "zh": "市政府星期一宣布，横跨河流的新桥将于明年春天通车。由于冬季洪水淹没了工地，工程比原计划拖延了很久。"
    "附近居民希望市中心的交通压力能够因此减轻。",
}

PII = (
    "For further information about the drought assistance package contact the regional office on (02) 6277 7111 "
    "or write to media.office@agriculture.example.gov.au. Farmers can also call +61 2 6272 3933 during business "
    "hours. The department's server at 203.0.113.42 hosts the application forms, version 2.4.1, released 12.03.2001.",
)

JUNK = [
    "Home | About | Contact | Login",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
    "Click here! Click here! Click here! Click here! Click here! Click here! Click here! Click here!",
    "JavaScript is required to view this page. Please enable javascript in your browser.",
    "$$$ %%% ### @@@ !!! *** ^^^ &&& ((( ))) $$$ %%% ### @@@ !!!",
]


# Each of these passes the earlier steps of the default pipeline and is caught by a later one.
TOXIC = (
    "Readers' comments on the council decision. This is bullshit, said one reader, and the mayor is a "
    "jackass who never listens to anybody in this town. Another reader wrote that the whole plan was "
    "bullshit from the start and that the council should resign before the next election. A third "
    "reader said that the people who planned the new road had never driven on it in the morning, and "
    "that the money would have been better spent on the hospital and the schools in the west of the city."
)


def repetitive_document(article: str) -> str:
    """One sensible sentence repeated line after line: Gopher's duplicate-line rule fires."""
    sentence = " ".join(article.split()[:18]).rstrip(",.") + "."
    return "\n".join([sentence] * 12)


def short_lines_document(article: str) -> str:
    """Distinct four-word lines, each a sentence: FineWeb's short-line rule fires."""
    words = [w.strip(".,;:\"'") for w in article.split()]
    words = [w for w in words if w]
    return "\n".join(" ".join(words[i : i + 4]) + "." for i in range(0, min(len(words), 160) - 3, 4))


def lee_documents() -> list[str]:
    """The 300 articles of gensim's lee_background.cor (a small file shipped with gensim)."""
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def near_duplicate(text: str, rng: random.Random, edit_rate: float = 0.03) -> str:
    """Replace about `edit_rate` of the words with a marker word: Jaccard of 5-gram shingles stays high."""
    words = text.split()
    for i in rng.sample(range(len(words)), max(1, int(len(words) * edit_rate))):
        words[i] = "reportedly"
    return " ".join(words)


def write_sample(directory: str | Path, seed: int = 7) -> list[Path]:
    """Write the sample files into `directory`; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    articles = lee_documents()
    news = [{"id": f"lee-{i:03d}", "text": t, "source": "lee_background"} for i, t in enumerate(articles[:240])]
    with atomic_write(directory / "news.jsonl.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        for record in news:
            out.write((json.dumps(record, ensure_ascii=False) + "\n").encode())

    extra: list[str] = []
    for i in rng.sample(range(240), 6):
        extra.append(json.dumps({"id": f"copy-of-lee-{i:03d}", "text": articles[i], "source": "syndication"}))
    for i in rng.sample(range(240), 12):
        extra.append(json.dumps({"id": f"edit-of-lee-{i:03d}", "text": near_duplicate(articles[i], rng), "source": "syndication"}))
    for lang, text in FOREIGN.items():
        extra.append(json.dumps({"id": f"foreign-{lang}", "text": text, "source": "wire"}, ensure_ascii=False))
    for i, text in enumerate(PII):
        extra.append(json.dumps({"id": f"pii-{i}", "text": text + " " + articles[240 + i], "source": "press_release"}))
    extra.append(json.dumps({"id": "comments-toxic", "text": TOXIC, "source": "web"}))
    extra.append(json.dumps({"id": "repeated-lines", "text": repetitive_document(articles[280]), "source": "web"}))
    extra.append(json.dumps({"id": "short-lines", "text": short_lines_document(articles[281]), "source": "web"}))
    for i, text in enumerate(JUNK):
        extra.append(json.dumps({"id": f"junk-{i}", "text": text, "source": "web"}))
    extra.append(json.dumps({"id": "empty", "text": "", "source": "web"}))
    extra.append('{"id": "broken", "text": "this line is not valid JSON')
    with atomic_write(directory / "extra.jsonl", "w") as handle:
        handle.write("\n".join(extra) + "\n")

    write_warc(directory / "crawl.warc.gz", articles[250:270], rng)
    return [directory / "news.jsonl.gz", directory / "extra.jsonl", directory / "crawl.warc.gz"]


def _html_page(title: str, text: str) -> str:
    nav = "".join(f'<li><a href="/{s}/">{s.title()}</a></li>' for s in ("news", "sport", "weather", "business", "about"))
    paragraphs = "".join(f"<p>{sentence.strip()}.</p>" for sentence in text.split(". ") if sentence.strip())
    return (
        f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} | The Sample Times</title>"
        "<style>nav{float:left}</style><script>var tracking = {id: 42};</script></head><body>"
        f"<header><nav><ul>{nav}</ul></nav><div class=\"cookie\">We use cookies. Accept?</div></header>"
        f"<main><article><h1>{title}</h1>{paragraphs}</article></main>"
        "<aside><h3>Most read</h3><ul><li><a href=\"/a\">Storm warning</a></li><li><a href=\"/b\">Rates rise</a></li></ul></aside>"
        "<footer><p>Copyright 2001 The Sample Times. All rights reserved.</p><a href=\"/privacy\">Privacy policy</a></footer>"
        "</body></html>"
    )


def _warc_record(url: str, status: str, content_type: str, body: bytes, index: int) -> bytes:
    http = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{url}#{index}")
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{record_id}>\r\nWARC-Date: 2001-09-{1 + index % 28:02d}T12:00:00Z\r\n"
        f"WARC-Target-URI: {url}\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + http + b"\r\n\r\n", mtime=0)


def write_warc(path: Path, texts: list[str], rng: random.Random) -> None:
    """A WARC/1.0 file, one gzip member per record: article pages, then a 404, a redirect, an image."""
    records = []
    for i, text in enumerate(texts):
        title = " ".join(text.split()[:6]).rstrip(".,")
        body = _html_page(title, text).encode("utf-8")
        records.append(_warc_record(f"http://sample.example/news/{i:03d}.html", "200 OK", "text/html; charset=utf-8", body, i))
    n = len(records)
    records.append(_warc_record("http://sample.example/missing.html", "404 Not Found", "text/html", b"<h1>Not found</h1>", n))
    records.append(_warc_record("http://sample.example/news", "301 Moved Permanently", "text/html", b"", n + 1))
    records.append(_warc_record("http://sample.example/logo.png", "200 OK", "image/png", bytes(rng.randrange(256) for _ in range(64)), n + 2))
    with atomic_write(path, "wb") as handle:
        handle.write(b"".join(records))
