"""WARC and WET reader (fastwarc): HTML responses extracted to main text with resiliparse and
our boilerplate pass (corpuskit.readers.extract)."""

from __future__ import annotations

import json
import tempfile
import zlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from corpuskit.document import Document, Rejected
from corpuskit.readers.base import Reader
from corpuskit.readers.extract import BoilerplatePass, HostChrome, extract_main_text

_HTML_TYPES = ("text/html", "application/xhtml+xml")


class WarcReader(Reader):
    """Reads response, resource, conversion (WET) and revisit records; request, warcinfo and
    metadata records carry no page and are not counted.

    A response becomes a document when its status is 200 and its content type is HTML: the
    body is de-chunked and decompressed (Transfer- and Content-Encoding), decoded with the HTTP
    charset, else the `<meta>` charset, else detection, and reduced to its main text by
    resiliparse after our boilerplate pass (`boilerplate=True`: breadcrumbs, bylines, tag lists,
    comment forms, link-dense blocks; see corpuskit.readers.extract). `host_chrome=True` reads
    each file twice over: the first pass extracts every page (spooled to a temporary file) and
    learns which short lines repeat on many pages of one host, the second yields the pages
    without them. `main_content=False` keeps all text. Skipped and counted:
    `warc_revisit`, `warc_not_200`, `warc_not_html`, `warc_no_text`. A truncated or malformed
    record ends the file with `warc_truncated` (errored), naming the byte offset. URL, crawl
    date, WARC record id and HTTP status go to metadata. Memory: one record (with
    `host_chrome`, plus 8 bytes per distinct short line and page of each host).
    """

    name = "warc"
    suffixes = (".warc", ".wet", ".arc")

    def __init__(self, main_content: bool = True, boilerplate: bool = True, host_chrome: bool = False, min_chars: int = 1) -> None:
        self.main_content = main_content
        self.boilerplate = boilerplate
        self.host_chrome = host_chrome
        self.min_chars = min_chars
        self._boilerplate_pass = BoilerplatePass()

    def read(self, path: str) -> Iterator[Document | Rejected]:
        if not (self.host_chrome and self.main_content):
            yield from self._read(path, self.min_chars)
            return
        chrome = HostChrome()
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
            for item in self._read(path, 1):
                if isinstance(item, Document):
                    chrome.add(_host(item.metadata["url"]), item.text)
                    spool.write(json.dumps({"id": item.id, "text": item.text, "metadata": item.metadata}) + "\n")
                else:
                    spool.write(json.dumps({"rejected": [item.where, item.reason, item.detail, item.errored]}) + "\n")
            spool.seek(0)
            for line in spool:
                entry = json.loads(line)
                if "rejected" in entry:
                    yield Rejected(*entry["rejected"])
                    continue
                text = chrome.clean(_host(entry["metadata"]["url"]), entry["text"])
                yield self._document(text, entry["metadata"]["location"], entry["metadata"], self.min_chars)

    def _read(self, path: str, min_chars: int) -> Iterator[Document | Rejected]:
        from fastwarc.warc import ArchiveIterator, WarcRecordType

        wanted = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.conversion | WarcRecordType.revisit
        offset = 0
        with open(path, "rb") as raw:
            try:
                for record in ArchiveIterator(raw, record_types=wanted, parse_http=True):
                    offset = record.stream_pos
                    yield self._record(record, f"{path}@{offset}", WarcRecordType, min_chars)
            except Exception as exc:  # noqa: BLE001 - fastwarc reports broken input as OSError and others
                yield Rejected(f"{path}@{offset}", "warc_truncated", f"record after offset {offset}: {exc}")
                return
        if not path.endswith((".gz", ".zst", ".lz4")) and not _ends_like_a_record(path):
            # fastwarc stops quietly when the file ends inside a record's header.
            yield Rejected(f"{path}@{offset}", "warc_truncated", "the file ends inside a record (no closing blank line)")

    def _record(self, record, where: str, types, min_chars: int) -> Document | Rejected:
        url = (record.headers.get("WARC-Target-URI") or "").strip("<>")
        where = f"{where} ({url})" if url else where
        kind = record.record_type
        if kind == types.revisit:
            return Rejected(where, "warc_revisit", "a revisit record has no payload of its own", errored=False)
        body = record.reader.read()
        if len(body) < record.content_length:
            return Rejected(where, "warc_truncated", f"record body has {len(body)} of {record.content_length} bytes")
        metadata = {
            "url": url,
            "date": record.record_date.isoformat() if record.record_date else None,
            "warc_record_id": record.record_id,
            "location": where,
        }
        if kind == types.conversion:  # WET: already plain text
            text = body.decode("utf-8", "surrogateescape").strip()
            return self._document(text, where, metadata, min_chars)
        if record.is_http:
            status = record.http_headers.status_code
            metadata["status"] = status
            if status != 200:
                return Rejected(where, "warc_not_200", f"HTTP {status}", errored=False)
            content_type = (record.http_content_type or "").lower()
            charset = record.http_charset
            try:
                body = _decode_transfer(body, record.http_headers)
            except (ValueError, zlib.error) as exc:
                return Rejected(where, "warc_bad_http_body", str(exc))
        else:
            content_type = (record.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            charset = None
        if content_type not in _HTML_TYPES:
            return Rejected(where, "warc_not_html", content_type or "no content type", errored=False)
        return self._document(self._extract(body, charset), where, metadata, min_chars)

    def _extract(self, body: bytes, charset: str | None) -> str:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        encoding = charset or detect_encoding(body, from_html_meta=True)
        html = bytes_to_str(body, encoding)
        if self.main_content and self.boilerplate:
            return extract_main_text(html, self._boilerplate_pass)
        return extract_plain_text(html, main_content=self.main_content, alt_texts=False, list_bullets=False).strip()

    def _document(self, text: str, where: str, metadata: dict, min_chars: int) -> Document | Rejected:
        if len(text) < min_chars:
            return Rejected(where, "warc_no_text", "nothing left after extraction", errored=False)
        doc_id = metadata["warc_record_id"] or where
        return Document(id=str(doc_id), text=text, metadata=metadata)


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _ends_like_a_record(path: str) -> bool:
    """An uncompressed WARC file ends with the blank line that closes its last record."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        if size == 0:
            return True
        handle.seek(max(0, size - 4))
        return handle.read().endswith(b"\r\n\r\n")


def _decode_transfer(body: bytes, headers) -> bytes:
    """Undo chunked transfer encoding and gzip/deflate/br content encoding of an HTTP body.

    fastwarc can do this itself (`auto_decode`), but then the body no longer has the length
    the record declares, and that comparison is how a truncated record is detected.
    """
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        body = _dechunk(body)
    encoding = (headers.get("Content-Encoding") or "").lower().strip()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=47).decompress(body)  # 47: auto-detect gzip or zlib header
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    return body


def _dechunk(body: bytes) -> bytes:
    """Chunked transfer decoding (RFC 9112 7.1); see `_decode_transfer` for why it is ours."""
    out = bytearray()
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise ValueError("chunked body ends without a terminating chunk")
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ValueError(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            return bytes(out)
        start = line_end + 2
        out += body[start : start + size]
        position = start + size + 2


