"""Main-text extraction from HTML: resiliparse's main-content extractor after a boilerplate pass
of ours over its DOM, and (optionally) removal of site chrome that repeats across one host's pages.

resiliparse alone keeps what sits next to the article: breadcrumbs, bylines, tag lists, comment
forms, widget and sponsored-link blocks. The DOM pass removes an element when

- its tag, class, id or ARIA role names a kind of boilerplate (`breadcrumb`, `byline`, `tags`,
  `comments`, `sidebar`, `sponsored`, role `navigation`, `<nav>`, ...; see `BOILERPLATE_NAMES`),
  unless it is long or holds the article (a `content-with-sidebar` wrapper);
- it is a short block whose text is mostly link text (link density above `max_link_density`);
- it is a short block that reads as a breadcrumb ("Home › News › ..."), a byline ("By Jane Doe |
  12 May 2006"), a tag list ("Tags: economy, farming"), a teaser ending in "Read more", or an
  interface word alone ("Menu", "Close").

`HostChrome` then learns, over a crawl, which short lines repeat on many distinct pages of one
host (digits and month names folded, so "11 March 2006 — syndicated from X" is one line) and
removes them. Time: O(DOM size) per page; memory: one page, plus HostChrome's line counts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from resiliparse.parse.html import HTMLTree, NodeType

# Words that name boilerplate in a class or id value (matched as whole words by `_NAMED`).
BOILERPLATE_NAMES = frozenset(
    """
    breadcrumb breadcrumbs crumbs crumb byline dateline entry-meta post-meta article-meta
    tags tagged tagcloud taglist post-tags entry-tags
    share sharing social sharebar
    related recommended
    comments respond replies disqus
    sidebar widget widgets
    ads advert advertisement advertising sponsor sponsored promo
    newsletter subscribe
    cookie cookies consent gdpr
    footer nav navbar menu pagination pager toolbar
    caption gallery slideshow carousel credit credits
    trending popular mostread most-read most-popular recirc recirculation outbrain taboola teaser teasers
    modal popup overlay sr-only visually-hidden screen-reader
    """.split()
)
BOILERPLATE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"})
BOILERPLATE_TAGS = frozenset({"nav", "aside", "footer", "form", "button", "select", "dialog", "figure", "figcaption"})
# Whole-block texts that are interface, not content.
UI_TEXTS = frozenset(
    {"menu", "close", "x", "share", "print", "email", "comments", "search", "advertisement", "pagetop",
     "caption", "loading", "subscribe", "next", "previous", "more", "back to top", "skip to content",
     "sign in", "log in", "sign up", "read more", "load more", "show more"}
)
_TEXT_BLOCKS = frozenset(
    {"p", "div", "span", "li", "ul", "ol", "td", "th", "tr", "table", "section", "header", "i", "em",
     "small", "font", "b", "strong", "time", "address", "dd", "dt", "dl", "center", "h4", "h5", "h6",
     "article", "a", "label"}
)
# Elements whose children are looked at one by one; below any other element only whole blocks go.
_CONTAINERS = frozenset(
    {"div", "section", "main", "article", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul", "ol",
     "dl", "header", "center", "span", "font", "li", "blockquote", "figure"}
)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(rf"\b\d{{1,2}}(st|nd|rd|th)? ({_MONTHS})\.?,? \d{{4}}\b|\b({_MONTHS})\.? \d{{1,2}}(st|nd|rd|th)?,? \d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b", re.IGNORECASE)
_BYLINE_START = re.compile(r"^(by|posted|published|written by|updated|last updated)\b", re.IGNORECASE)
_TAGS_START = re.compile(r"^(tags|tagged|tagged with|filed under|categories|category|topics|posted in)\b\s*:?", re.IGNORECASE)
_CRUMB_SEPARATOR = re.compile(r"(?:^|\s)[›»>/|→·•](?=\s|$)")
_LINK = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>|&\w+;|&#\w+;")
_READ_MORE = re.compile(r"(read more|continue reading|read the full story)\W*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?。]['\"”’)]*$")


# A boilerplate word inside a class or id value, delimited by start/end, '-', '_', a space or a
# case change: 'post-tags', 'comments-area', 'SidebarArticle' match; 'tagline', 'metadata' do not.
_NAMED = re.compile(
    "(?<![a-z])(?:"
    + "|".join(sorted({re.escape(form) for n in BOILERPLATE_NAMES for form in (n, n.capitalize(), n.upper())}, key=len, reverse=True))
    + ")(?![a-z])"
)


def _names_boilerplate(value: str) -> bool:
    """Does a class or id value hold a boilerplate word ('post-tags', 'SidebarArticle')?"""
    return bool(value) and _NAMED.search(value) is not None


def _is_named_boilerplate(node) -> bool:
    if node.tag in BOILERPLATE_TAGS:
        return True
    if _names_boilerplate(node.getattr("class") or "") or _names_boilerplate(node.id or ""):
        return True
    return (node.getattr("role") or "").lower() in BOILERPLATE_ROLES


def _looks_like_chrome_text(text: str, words: int) -> bool:
    """A breadcrumb, byline, tag list, teaser ending in 'Read more' or an interface word
    ('Menu', 'Close'): short, with its telltale shape."""
    if text.lower() in UI_TEXTS:
        return True
    if _READ_MORE.search(text):
        return True  # a teaser: headline, summary, 'Read more'
    if words > 25 or _SENTENCE_END.search(text):
        return False
    if _TAGS_START.match(text):
        return True
    if len(_CRUMB_SEPARATOR.findall(text)) >= 2:
        return True
    return bool(_BYLINE_START.match(text) and (_DATE.search(text) or "|" in text))


@dataclass
class BoilerplatePass:
    """The DOM pass: call `strip(tree)` before extracting. Thresholds are parameters.

    `max_link_density`: a block (not a list item) of at most `short_block_chars` characters of
    text and two or more links whose link text exceeds this share of its text is removed. An
    element named like boilerplate is removed only when its text is at most `max_named_chars`
    characters and it holds no `main`, `article` or `h1` (a `content-with-sidebar` wrapper holds
    the article).
    """

    max_link_density: float = 0.5
    short_block_chars: int = 400
    max_named_chars: int = 1000
    removed: Counter = field(default_factory=Counter)

    def strip(self, tree: HTMLTree) -> None:
        body = tree.body
        if body is None:
            return
        doomed: list = []
        stack = [body]
        while stack:
            node = stack.pop().first_element_child
            # (sibling links, not child_nodes: indexing a DOMCollection walks the list each time)
            while node is not None:
                reason, descend = self._verdict(node)
                if reason:
                    self.removed[reason] += 1
                    doomed.append(node)
                elif descend:
                    stack.append(node)
                node = node.next_element
        for node in doomed:
            node.decompose()

    def _verdict(self, node) -> tuple[str | None, bool]:
        """(why to remove `node` or None, whether to look inside it when kept)."""
        tag = node.tag
        if tag in ("main", "h1", "h2", "h3"):
            return None, tag == "main"
        if _is_named_boilerplate(node):
            if len(node.text) <= self.max_named_chars and node.query_selector("main, article, h1") is None:
                return "named", False
            return None, True
        if tag not in _TEXT_BLOCKS:
            return None, tag in _CONTAINERS
        text = node.text
        if len(text) > self.short_block_chars:
            return None, tag in _CONTAINERS
        words = text.split()
        if not words:
            return None, False
        if tag != "li":
            # Link text from the block's HTML: serialising is cheap, a wrapper per <a> is not.
            links = _LINK.findall(node.html)
            if len(links) >= 2:
                link_chars = sum(len("".join(_TAG.sub(" ", link).split())) for link in links)
                if link_chars > self.max_link_density * sum(map(len, words)):
                    return "link_dense", False
        if _looks_like_chrome_text(" ".join(words), len(words)):
            return "pattern", False
        return None, tag in _CONTAINERS


def extract_main_text(html: str, boilerplate: BoilerplatePass | None = None, main_content: bool = True) -> str:
    """Main text of one HTML page: paragraphs separated by blank lines, boilerplate removed.

    `boilerplate` None runs a default `BoilerplatePass`; pass one to read its counters or change
    its thresholds. `main_content=False` keeps everything (no pass, no resiliparse heuristics).
    """
    from resiliparse.extract.html2text import extract_plain_text

    tree = HTMLTree.parse(html)
    if main_content:
        (boilerplate or BoilerplatePass()).strip(tree)
    return extract_plain_text(tree, main_content=main_content, alt_texts=False, list_bullets=False, comments=False).strip()


_DIGITS = re.compile(r"\d+")
_MONTH_WORD = re.compile(rf"\b({_MONTHS})\b", re.IGNORECASE)


_LETTERS = re.compile(r"[^\W\d_]{2,}")


def _line_key(line: str) -> int | None:
    """Hash of the line with digits and month names folded; None for a line with digits that
    keeps fewer than two words of letters once folded (a bare date such as 'February 4, 1997'
    is content, not chrome; 'Page 2 of 10' is chrome)."""
    folded = " ".join(line.split()).lower()
    if _DIGITS.search(folded):
        folded = _MONTH_WORD.sub("0", _DIGITS.sub("0", folded))
        if len(_LETTERS.findall(folded)) < 2:
            return None
    return hash(folded)  # one process learns and cleans, so the salted str hash is stable enough


class HostChrome:
    """Site chrome learnt from a crawl: short lines found on many distinct pages of one host.

    `add(host, text)` for every page first (identical texts count once), then `clean(host, text)`.
    A line of at most `max_chars` characters is chrome when it occurs on at least `min_pages`
    distinct pages of its host and on at least `min_share` of them. Lines and pages are kept as
    64-bit hashes (Python's str hash: learn and clean in one process). Memory: one Counter entry
    per distinct short line and one set entry per distinct page of each host.
    """

    def __init__(self, min_pages: int = 5, min_share: float = 0.02, max_chars: int = 250) -> None:
        self.min_pages = min_pages
        self.min_share = min_share
        self.max_chars = max_chars
        self._pages: dict[str, set[int]] = defaultdict(set)
        self._lines: dict[str, Counter] = defaultdict(Counter)

    def add(self, host: str, text: str) -> None:
        page = hash(text)
        if page in self._pages[host]:
            return
        self._pages[host].add(page)
        self._lines[host].update({_line_key(line) for line in self._short_lines(text)} - {None})

    def _short_lines(self, text: str) -> list[str]:
        return [line for line in text.split("\n") if len(line) <= self.max_chars and line.strip()]

    def is_chrome(self, host: str, line: str) -> bool:
        pages = len(self._pages.get(host, ()))
        if not pages or len(line) > self.max_chars:
            return False
        key = _line_key(line)
        if key is None:
            return False
        seen = self._lines[host].get(key, 0)
        return seen >= self.min_pages and seen >= self.min_share * pages

    def clean(self, host: str, text: str) -> str:
        """`text` without its host's chrome lines (paragraph breaks kept, runs of blanks folded)."""
        kept = [line for line in text.split("\n") if not (line.strip() and self.is_chrome(host, line))]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
