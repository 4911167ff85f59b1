"""BPE encoding is O(m log m) in a word's length: the heap merge against the rescanning loop
(kept as the reference) and the plain-Python reference, and HF on long words."""

from __future__ import annotations

import random
import string

import numpy as np
import pytest

from corpuskit.tokenizers.bpe_kernels import SHORT_WORD, encode_word_reference, merge_by_heap, merge_by_rank, merge_by_rank_quadratic
from corpuskit.tokenizers.table_kernels import build_table


def random_table(rng: np.random.Generator, n_symbols: int, n_merges: int):
    """Random merges over ids 0..n_symbols-1, each making a new id; returns (tkeys, tvals, dict)."""
    merges: dict[tuple[int, int], tuple[int, int]] = {}
    next_id = n_symbols
    while len(merges) < n_merges:
        a, b = (int(x) for x in rng.integers(0, next_id, size=2))
        if (a, b) not in merges:
            merges[(a, b)] = (len(merges), next_id)
            next_id += 1
    keys = np.array([(a << 32) | b for a, b in merges], np.int64)
    values = np.array([(rank << 32) | new for rank, new in merges.values()], np.int64)
    tkeys, tvals = build_table(keys, values)
    return tkeys, tvals, merges


def run(kernel, word: list[int], tkeys, tvals, with_ranks: bool = True) -> tuple[list[int], list[int]]:
    syms = np.array(word, np.int32)
    lens = np.ones(len(word), np.int32)
    if with_ranks:
        m = kernel(syms, lens, np.empty(max(len(word), 1), np.int64), len(word), tkeys, tvals)
    else:
        m = kernel(syms, lens, len(word), tkeys, tvals)
    return syms[:m].tolist(), lens[:m].tolist()


@pytest.mark.parametrize("seed,n_symbols,n_merges", [(0, 3, 40), (1, 5, 200), (2, 2, 6), (3, 30, 600)])
def test_heap_merge_equals_the_rescanning_loop_and_the_reference(seed: int, n_symbols: int, n_merges: int) -> None:
    rng = np.random.default_rng(seed)
    tkeys, tvals, merges = random_table(rng, n_symbols, n_merges)
    for length in [0, 1, 2, 3, 5, SHORT_WORD, SHORT_WORD + 1, 97, 400, 3001]:
        word = rng.integers(0, n_symbols, size=length).tolist()
        heap = run(merge_by_heap, word, tkeys, tvals, with_ranks=False)
        assert heap == run(merge_by_rank_quadratic, word, tkeys, tvals), (seed, length)
        assert heap == run(merge_by_rank, word, tkeys, tvals)
        assert sum(heap[1]) == length
        if length <= 400:
            assert heap[0] == encode_word_reference(word, merges)


def test_heap_merge_ties_go_left_to_right() -> None:
    tkeys, tvals = build_table(np.array([(1 << 32) | 1, (2 << 32) | 2], np.int64), np.array([(0 << 32) | 2, (1 << 32) | 3], np.int64))
    for n in (5, 6, 7, 1000, 1001):
        ids, lens = run(merge_by_heap, [1] * n, tkeys, tvals, with_ranks=False)
        quadratic = run(merge_by_rank_quadratic, [1] * n, tkeys, tvals)
        assert (ids, lens) == quadratic
        assert ids == encode_word_reference([1] * n, {(1, 1): (0, 2), (2, 2): (1, 3)}) and sum(lens) == n


@pytest.mark.parametrize("model", ["bpe", "byte-bpe"])
def test_long_random_words_match_hf(model: str, trained: dict, tmp_path) -> None:
    from tokenizers import Tokenizer as HFTokenizer

    path = tmp_path / "tokenizer.json"
    trained[model].save(path)
    hf = HFTokenizer.from_file(str(path))
    rng = random.Random(5)
    for alphabet in (string.ascii_lowercase, "ab", "éa中"):
        word = "".join(rng.choice(alphabet) for _ in range(20_000))
        assert trained[model].encode(word) == hf.encode(word).ids
