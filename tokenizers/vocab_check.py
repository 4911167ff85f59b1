"""Checking a model's vocabulary as read from a tokenizer.json: token -> distinct non-negative ids."""

from __future__ import annotations

from typing import Any

_JSON_TYPES = {list: "list", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def check_vocab(vocab: Any, where: str) -> dict[str, int]:
    """Return `vocab` if it is a JSON object mapping tokens to distinct non-negative integer ids.

    Otherwise a ValueError naming the part and the first offending token: a list (another
    model's layout), a negative, fractional or repeated id would encode to wrong ids silently.
    Time O(vocabulary size).
    """
    if not isinstance(vocab, dict):
        raise ValueError(f"{where}.vocab: expected a JSON object of token: id, found a JSON {_JSON_TYPES.get(type(vocab), type(vocab).__name__)}")
    owner: dict[int, str] = {}
    for token, token_id in vocab.items():
        if isinstance(token_id, bool) or not isinstance(token_id, int) or token_id < 0:
            raise ValueError(f"{where}.vocab: token {token!r} has id {token_id!r}; expected a non-negative integer")
        if token_id in owner:
            raise ValueError(f"{where}.vocab: tokens {owner[token_id]!r} and {token!r} share id {token_id}")
        owner[token_id] = token
    return vocab
