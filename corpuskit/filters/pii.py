"""PII redaction: e-mail addresses, phone numbers and IP addresses become placeholder tokens.

Candidates are found by regular expressions and then checked (IP addresses parse with
`ipaddress`; a phone number needs 10-15 digits, or 7+ after a '+' or an area code in
parentheses; numbers after 'version'/'v'/'release' are left alone), so dates, years, prices and
version numbers are not hit. Memory and time: O(document).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from corpuskit.document import Document, Drop
from corpuskit.steps import Step

EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?!\w)")
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?![\w]|[.-]\d)")
VERSION_CONTEXT = re.compile(r"\b(?:version|ver\.?|release|build|v)\s*$", re.IGNORECASE)
KINDS = ("email", "phone", "ip")


def _after_version_word(text: str, start: int) -> bool:
    return bool(VERSION_CONTEXT.search(text[max(0, start - 12) : start]))


def _is_ipv4(text: str, match: re.Match) -> bool:
    try:
        ipaddress.IPv4Address(match.group())
    except ValueError:
        return False
    return not _after_version_word(text, match.start())


def _is_ipv6(text: str, match: re.Match) -> bool:
    candidate = match.group()
    if candidate.count(":") < 2 or not any(c not in ":" for c in candidate):
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _is_phone(text: str, match: re.Match) -> bool:
    candidate = match.group()
    digits = sum(c.isdigit() for c in candidate)
    if _after_version_word(text, match.start()):
        return False
    if candidate.startswith("+") or "(" in candidate:
        return 7 <= digits <= 15
    return 10 <= digits <= 15


class PIIRedactor(Step):
    """Replace e-mail addresses, phone numbers and IPv4/IPv6 addresses with placeholders.

    `kinds` picks among 'email', 'phone', 'ip'. Counters: pii_<kind> per replacement;
    `metadata["pii"]` = {kind: count} for documents that had any. Never drops a document.
    """

    name = "pii"

    def __init__(
        self,
        kinds: list[str] | None = None,
        email_placeholder: str = "<EMAIL>",
        phone_placeholder: str = "<PHONE>",
        ip_placeholder: str = "<IP_ADDRESS>",
    ) -> None:
        self.kinds = list(KINDS) if kinds is None else list(kinds)
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        rules: list[tuple[str, re.Pattern, Callable[[str, re.Match], bool] | None, str]] = []
        if "email" in self.kinds:
            rules.append(("email", EMAIL, None, email_placeholder))
        if "ip" in self.kinds:
            rules.append(("ip", IPV6, _is_ipv6, ip_placeholder))
            rules.append(("ip", IPV4, _is_ipv4, ip_placeholder))
        if "phone" in self.kinds:
            rules.append(("phone", PHONE, _is_phone, phone_placeholder))
        self.rules = rules

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """The text with PII replaced, and the number of replacements per kind."""
        found: dict[str, int] = {}
        for kind, pattern, check, placeholder in self.rules:
            if pattern is EMAIL and "@" not in text:
                continue
            if pattern is IPV6 and text.count(":") < 2:
                continue
            current = text

            def replace(match: re.Match, kind=kind, check=check, placeholder=placeholder, current=current) -> str:
                if check is not None and not check(current, match):
                    return match.group()
                found[kind] = found.get(kind, 0) + 1
                return placeholder

            text = pattern.sub(replace, text)
        return text, found

    def process(self, doc: Document) -> Document | Drop:
        text, found = self.redact(doc.text)
        if found:
            doc.text = text
            doc.metadata["pii"] = found
            for kind, n in found.items():
                self.count(f"pii_{kind}", n)
        return doc
