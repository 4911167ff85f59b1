"""Unicode script classes of characters, grouped the way SentencePiece splits pieces.

SentencePiece never lets a piece mix scripts (Latin letters with Common punctuation or digits,
say), folds Hiragana, Katakana and the prolonged sound mark U+30FC into Han, lets Inherited
marks (combining accents) join whatever precedes them, and can keep digits apart. The Unigram
trainer uses these classes to seed only pieces SentencePiece would consider, which is what
makes vocabularies comparable at the same size.

Python's `unicodedata` has no Script property; the `regex` package matches `\\p{Script=...}`
but lists its script names only in its private property table, which is read here once.
"""

from __future__ import annotations

from functools import lru_cache

import regex

ANY = -1  # joins any script (Inherited marks; digits when numbers are not split)
ALONE = -2  # may only be a piece on its own (digits with split_digits)


@lru_cache(maxsize=1)
def _scripts() -> tuple[dict[str, int], tuple[tuple[int, "regex.Pattern[str]"], ...]]:
    """`regex`'s script ids by name, and (script id, pattern matching its characters) per script."""
    from regex import _regex_core

    ids: dict[str, int] = _regex_core.PROPERTIES["SCRIPT"][1]
    names: dict[int, str] = {}
    for name, script_id in ids.items():
        names.setdefault(script_id, name)
    return ids, tuple((script_id, regex.compile(rf"\p{{Script={name}}}")) for script_id, name in sorted(names.items()))


def script_classes(chars: str, split_by_number: bool = True, split_digits: bool = False, split_by_script: bool = True) -> dict[str, int]:
    """Class of each distinct character of `chars`: a script id (>= 0), ANY or ALONE.

    Two characters may share a piece when their classes are equal or either is ANY.
    Characters of no script (unassigned) count as Common, as in SentencePiece. Without
    `split_by_script` every character is ANY but for the digit rules.
    """
    distinct = "".join(sorted(set(chars)))
    ids, patterns = _scripts()
    classes: dict[str, int] = {}
    for script_id, pattern in patterns:
        for ch in pattern.findall(distinct):
            classes[ch] = script_id
    han = ids["HAN"]
    for ch in distinct:
        script = classes.get(ch, ids["UNKNOWN"])
        if script == ids["UNKNOWN"]:
            script = ids["COMMON"]
        if script in (ids["HIRAGANA"], ids["KATAKANA"]) or ch == "\u30fc":
            script = han
        elif script == ids["INHERITED"]:
            script = ANY
        if not split_by_script:
            script = ANY
        if ch.isdecimal():
            if split_digits:
                script = ALONE
            elif not split_by_number:
                script = ANY
        classes[ch] = script
    return classes


def is_valid_piece(piece: str, classes: dict[str, int], marker: str = "\u2581") -> bool:
    """SentencePiece's piece rule on classes: one script per piece, ALONE characters alone, the
    marker only first (reference for the seed kernel)."""
    previous = ANY
    for pos, ch in enumerate(piece):
        if ch == marker:
            if pos > 0:
                return False
            continue
        cls = classes[ch]
        if cls == ALONE:
            if len(piece) > 1:
                return False
            continue
        if cls == ANY:
            continue
        if previous != ANY and cls != previous:
            return False
        previous = cls
    return True
