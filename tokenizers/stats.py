"""Tokenizer statistics on a text stream: bytes per token, unknown-token share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from corpuskit.tokenizers.tokenizer import Tokenizer


def unk_id(tok: Tokenizer) -> int | None:
    """The id unknown text encodes to, or None (byte-level BPE has none)."""
    model = tok.model
    if getattr(model, "kind", "") == "Unigram":
        return model.unk_id
    name = getattr(model, "unk_token", None)
    return tok.token_to_id(name) if name else None


def tokenizer_stats(tok: Tokenizer, texts: Iterable[str], batch: int = 1024) -> dict[str, Any]:
    """Encode `texts` (streamed in batches) and summarise. Memory: O(batch)."""
    n_texts = n_bytes = n_tokens = n_unk = 0
    unk = unk_id(tok)
    chunk: list[str] = []

    def flush() -> None:
        nonlocal n_tokens, n_unk
        for ids in tok.encode_batch(chunk, add_special_tokens=False):
            n_tokens += len(ids)
            if unk is not None:
                n_unk += ids.count(unk)
        chunk.clear()

    for text in texts:
        n_texts += 1
        n_bytes += len(text.encode("utf-8", "replace"))
        chunk.append(text.encode("utf-8", "replace").decode("utf-8"))
        if len(chunk) >= batch:
            flush()
    flush()
    return {
        "vocab_size": tok.vocab_size,
        "texts": n_texts,
        "bytes": n_bytes,
        "tokens": n_tokens,
        "bytes_per_token": n_bytes / n_tokens if n_tokens else 0.0,
        "unknown_share": n_unk / n_tokens if n_tokens else 0.0,
    }
