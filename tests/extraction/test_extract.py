"""Main-text extraction: the boilerplate pass over resiliparse's DOM and per-host chrome, on
hand-made pages shaped like real templates (a news article, a blog post, a table-layout page)."""

import gzip
import random

import pytest

from corpuskit.document import Document
from corpuskit.quickstart.sample import _warc_record
from corpuskit.readers.extract import BoilerplatePass, HostChrome, _line_key, _names_boilerplate, extract_main_text
from corpuskit.readers.warc import WarcReader

BODY = [
    "The council voted on Monday to rebuild the old bridge over the river, ending a debate that has run for years.",
    "Engineers said the new span would carry twice the traffic and open to walkers and cyclists by next spring.",
    "Residents who spoke at the meeting asked for the work to be done at night, and the mayor agreed to consider it.",
]


def news_page(title: str = "Council backs new bridge", body: list[str] = BODY) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body)
    return f"""<html><head><title>{title}</title></head><body>
<header><a href="/">The Gazette</a><nav><a href="/">Home</a><a href="/news/">News</a><a href="/sport/">Sport</a></nav></header>
<div class="crumbs"><a href="/">Home</a> &rsaquo; <a href="/news/">News</a> &rsaquo; {title}</div>
<main><article><h1>{title}</h1>
<p class="byline">By Jane Doe | Published 12 May 2006 | <a href="mailto:?">Share by email</a> | <a href="#c">4 comments</a></p>
{paragraphs}
<p class="tags">Tags: <a href="/t/local">local</a> <a href="/t/roads">roads</a></p>
<section id="comments"><h2>Comments</h2><p>Comments are moderated. <a href="/login">Sign in</a> to comment.</p></section>
</article><aside><h3>Most read</h3><ul><li><a href="/a">Another story about the weather</a></li><li><a href="/b">Prices rise again</a></li></ul></aside></main>
<footer><p><a href="/about">About us</a> | <a href="/privacy">Privacy policy</a></p></footer></body></html>"""


def test_article_chrome_is_removed_and_the_body_kept():
    step = BoilerplatePass()
    text = extract_main_text(news_page(), step)
    for paragraph in BODY:
        assert paragraph in text
    assert text.startswith("Council backs new bridge")
    for chrome in ("Home", "Jane Doe", "Tags:", "Comments are moderated", "Most read", "About us"):
        assert chrome not in text, chrome
    assert step.removed["named"] >= 3  # crumbs, byline, tags, comments (resiliparse drops nav/aside/footer too)


def test_unnamed_chrome_goes_by_shape_and_link_density():
    # No class or id anywhere: a table layout, as old syndication templates have.
    html = f"""<html><body><table><tr><td><a href="/p/">Partner index</a> | <a href="/print">Print this page</a> | <a href="/c">Corrections</a></td></tr></table>
<table><tr><td><h2>Council backs new bridge</h2><div>By Jane Doe | 12 May 2006</div>{"".join(f"<p>{p}</p>" for p in BODY)}
<div>Filed under: local, roads</div><div>Home &rsaquo; News &rsaquo; Local</div></td>
<td><b>Sponsored links</b><br><a href="https://ads.example/1">Cheap flights to Sydney</a><br><a href="https://ads.example/2">Refinance your home loan today</a></td></tr></table></body></html>"""
    step = BoilerplatePass()
    text = extract_main_text(html, step)
    assert all(p in text for p in BODY)
    for chrome in ("Partner index", "Jane Doe", "Filed under", "Home", "Cheap flights"):
        assert chrome not in text, chrome
    assert step.removed["link_dense"] >= 2 and step.removed["pattern"] >= 3


def test_content_that_only_resembles_chrome_is_kept():
    body = [
        "By the end of 2006 the bridge had been closed twice for repairs, the council said.",  # starts like a byline, is a sentence
        "Tags on the new lamps will show which company installed them.",  # starts like a tag list, is a sentence
        'He said it was the "best news in years" and read more about it in the <a href="/report">full report</a>.',
    ]
    html = f"""<html><body><div class="content-with-sidebar"><article><h1>Bridge news</h1>{"".join(f"<p>{p}</p>" for p in body + BODY)}</article>
<div class="sidebar"><a href="/x">Other story</a> <a href="/y">And another one</a></div></div></body></html>"""
    text = extract_main_text(html)
    assert "By the end of 2006" in text and "Tags on the new lamps" in text and "full report" in text
    assert all(p in text for p in BODY)  # the wrapper named 'sidebar' holds the article: kept
    assert "Other story" not in text


def test_main_content_false_keeps_everything():
    text = extract_main_text(news_page(), main_content=False)
    assert "Jane Doe" in text and "Most read" in text and BODY[0] in text


def test_class_and_id_words_are_matched_whole():
    for name in ("post-tags", "entry-meta small", "SidebarRight", "comments-area", "site-footer", "share"):
        assert _names_boilerplate(name), name
    for name in ("tagline", "metadata", "post type-post tag-economy category-news", "commentary-body", "navigator", ""):
        assert not _names_boilerplate(name), name


def test_host_chrome_learns_repeated_lines_of_one_host():
    chrome = HostChrome(min_pages=3, min_share=0.5)
    stories = ["Floods closed the river road.", "The mayor opened a school.", "Rain delayed the harvest.", "A new bus route starts soon."]
    pages = [f"Valley Wire Syndicate | Regional news\n\n{story}\n\n{i} March 2006 — syndicated from The Gazette" for i, story in enumerate(stories, 1)]
    for text in pages:
        chrome.add("partner.example", text)
    chrome.add("partner.example", pages[0])  # an identical page counts once
    chrome.add("other.example", "Valley Wire Syndicate | Regional news\n\nSomething else entirely.")
    assert chrome.clean("partner.example", pages[1]) == "The mayor opened a school."
    # another host learnt nothing; a bare date is never chrome
    assert chrome.clean("other.example", "Valley Wire Syndicate | Regional news") == "Valley Wire Syndicate | Regional news"
    assert _line_key("February 4, 1997") is None and _line_key("Page 2 of 10") == _line_key("Page 3 of 12")
    many = HostChrome(min_pages=2, min_share=0.5)
    for i in range(10):
        many.add("h", f"Unique text {i} here.\n\nRepeated only twice" if i < 2 else f"Unique text {i} here.")
    assert many.clean("h", "Repeated only twice") == "Repeated only twice"  # 2 of 10 pages: under the share


def _crawl(tmp_path, pages: dict[str, str]):
    records = [_warc_record(url, "200 OK", "text/html; charset=utf-8", html.encode("utf-8"), i) for i, (url, html) in enumerate(pages.items())]
    path = tmp_path / "site.warc.gz"
    path.write_bytes(b"".join(records))
    return str(path)


def test_warc_reader_boilerplate_and_host_chrome(tmp_path):
    rng = random.Random(3)
    words = " ".join(BODY).replace(",", "").replace(".", "").split()
    pages, bodies = {}, []
    for i in range(6):
        # every page its own paragraphs and title; the same unnamed banner line on each
        body = [" ".join(rng.sample(words, 15)) + "." for _ in range(3)]
        bodies.append(body)
        html = news_page(" ".join(rng.sample(words, 5)).capitalize(), body).replace("<main>", "<div>The Gazette Weekly Edition for our readers</div><main>")
        pages[f"http://gazette.example/news/{i}.html"] = html
    path = _crawl(tmp_path, pages)
    plain = [d for d in WarcReader().read(path) if isinstance(d, Document)]
    learnt = [d for d in WarcReader(host_chrome=True).read(path) if isinstance(d, Document)]
    old = [d for d in WarcReader(boilerplate=False).read(path) if isinstance(d, Document)]
    assert len(plain) == len(learnt) == len(old) == 6
    assert all("Jane Doe" not in d.text and "Weekly Edition" in d.text for d in plain)
    assert all("Weekly Edition" not in d.text and all(p in d.text for p in body) for d, body in zip(learnt, bodies))
    assert all("Jane Doe" in d.text for d in old)  # resiliparse alone keeps the byline
    assert [d.metadata["url"] for d in learnt] == list(pages)


def test_warc_reader_host_chrome_keeps_rejections_in_order(tmp_path):
    records = [
        _warc_record("http://a.example/1.html", "200 OK", "text/html", news_page().encode(), 0),
        _warc_record("http://a.example/missing", "404 Not Found", "text/html", b"<h1>gone</h1>", 1),
        _warc_record("http://a.example/2.html", "200 OK", "text/html", news_page("Second story").encode(), 2),
    ]
    path = tmp_path / "mixed.warc.gz"
    path.write_bytes(b"".join(records))
    items = list(WarcReader(host_chrome=True).read(str(path)))
    assert [type(i).__name__ for i in items] == ["Document", "Rejected", "Document"]
    assert items[1].reason == "warc_not_200" and not items[1].errored
    assert gzip.decompress(path.read_bytes())  # a valid gzip-member WARC


@pytest.mark.parametrize("html", ["", "<html></html>", "<p>only text</p>", "<html><body><nav>menu</nav></body></html>"])
def test_degenerate_pages(html):
    assert isinstance(extract_main_text(html), str)
