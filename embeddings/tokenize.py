"""The simple word tokenizer every embedding trainer uses: lower-case, then runs of word characters.

A token is a run of Unicode letters/digits, optionally joined by inner apostrophes or hyphens
("don't", "state-of-the-art"); everything else separates tokens. Being documented and tiny, it
can be reproduced exactly when another tool (gensim in the benchmark) must see the same tokens.
"""

from __future__ import annotations

import re

TOKEN_PATTERN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """'The cat's hat-stand, 2 x!' -> ['the', "cat's", 'hat-stand', '2', 'x']."""
    if lowercase:
        text = text.lower()
    return TOKEN_PATTERN.findall(text)
