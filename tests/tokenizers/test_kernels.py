"""Numba kernels against their plain-Python references on fresh random inputs and edge cases."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.tokenizers.bpe import BPEModel, compute_alphabet, train_bpe
from corpuskit.tokenizers.table_kernels import build_table
from corpuskit.tokenizers.bpe_kernels import encode_word_reference, encode_words, train_merges_reference
from corpuskit.tokenizers.wordpiece import train_wordpiece
from corpuskit.tokenizers.wordpiece_kernels import train_wordpiece_reference


def random_counts(rng: np.random.Generator, n_words: int, alphabet: str, max_len: int) -> Counter:
    counts: Counter = Counter()
    for _ in range(n_words):
        word = "".join(rng.choice(list(alphabet), size=int(rng.integers(1, max_len + 1))))
        counts[word] += int(rng.integers(1, 6))
    return counts


@pytest.mark.parametrize("seed,n_words,alphabet,max_len,vocab", [(0, 300, "abcde", 7, 80), (1, 57, "ab", 13, 40), (2, 1, "a", 9, 20), (3, 401, "xyzéü中", 5, 101)])
def test_bpe_training_matches_reference(seed: int, n_words: int, alphabet: str, max_len: int, vocab: int) -> None:
    counts = random_counts(np.random.default_rng(seed), n_words, alphabet, max_len)
    got_vocab, got_merges = train_bpe(counts, vocab, special_tokens=["[UNK]"])
    tokens = ["[UNK]"] + compute_alphabet(counts, [], None)
    index = {t: i for i, t in enumerate(tokens)}
    ref = train_merges_reference([[index[c] for c in w] for w in counts], list(counts.values()), tokens, vocab, 0)
    assert got_merges == [(tokens[a], tokens[b]) for a, b, _ in ref]
    assert got_vocab == {t: i for i, t in enumerate(tokens)}


def test_bpe_training_min_frequency_and_repeats() -> None:
    counts = Counter({"aaaaaaa": 3, "ab": 1, "b": 4})
    vocab, merges = train_bpe(counts, 100, min_frequency=2)
    tokens = compute_alphabet(counts, [], None)
    index = {t: i for i, t in enumerate(tokens)}
    ref = train_merges_reference([[index[c] for c in w] for w in counts], list(counts.values()), tokens, 100, 2)
    assert merges == [(tokens[a], tokens[b]) for a, b, _ in ref]
    assert ("a", "b") not in merges  # count 1 < min_frequency


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bpe_encoding_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = random_counts(rng, 200, "abcd", 8)
    vocab, merges = train_bpe(counts, 60)
    model = BPEModel(vocab, merges)
    table = {(vocab[a], vocab[b]): (rank, vocab[a + b]) for rank, (a, b) in enumerate(merges)}
    words = ["".join(rng.choice(list("abcd"), size=int(rng.integers(1, 30)))) for _ in range(101)]
    for word, (ids, lens) in zip(words, model.tokenize_words(words)):
        assert ids == encode_word_reference([vocab[c] for c in word], table)
        assert sum(lens) == len(word)


def test_encode_words_edge_cases() -> None:
    tkeys, tvals = build_table(np.array([(1 << 32) | 1], np.int64), np.array([(0 << 32) | 2], np.int64))
    ids = np.array([1, 1, 1, 1, 1], np.int32)  # "aaaaa" with merge (a, a) -> b: left to right
    starts = np.array([0, 0, 5], np.int64)  # an empty word, then the run
    out, bounds, lens = encode_words(ids, starts, tkeys, tvals)
    assert bounds.tolist() == [0, 0, 3]
    assert out.tolist() == [2, 2, 1]
    assert lens.tolist() == [2, 2, 1]


@pytest.mark.parametrize("n", [0, 1, 7, 8, 1000])
def test_hash_table_matches_a_dict(n: int) -> None:
    """The shared open-addressing table (table_kernels) against a plain dict, keys present and absent."""
    from corpuskit.tokenizers.table_kernels import grow_i64, lookup

    rng = np.random.default_rng(n)
    keys = np.unique(rng.integers(0, 1 << 62, size=n, dtype=np.int64))
    keys = np.concatenate([keys, np.arange(3, dtype=np.int64) * (1 << 32)])  # colliding low bits too
    keys = np.unique(keys)
    values = rng.integers(0, 1 << 40, size=keys.size, dtype=np.int64)
    tkeys, tvals = build_table(keys, values)
    assert tkeys.size >= 2 * keys.size and tkeys.size & (tkeys.size - 1) == 0
    expected = dict(zip(keys.tolist(), values.tolist()))
    probes = np.concatenate([keys, rng.integers(0, 1 << 62, size=50, dtype=np.int64)])
    for key in probes.tolist():
        assert lookup(tkeys, tvals, key) == expected.get(key, -1)
    grown = grow_i64(values, values.size + 1)
    assert grown.size >= 2 * values.size and grown[: values.size].tolist() == values.tolist() and not grown[values.size :].any()
    assert grow_i64(values, values.size) is values


@pytest.mark.parametrize("seed,vocab,criterion", [(0, 60, "likelihood"), (1, 35, "likelihood"), (5, 120, "likelihood"), (2, 90, "frequency")])
def test_wordpiece_training_matches_reference(seed: int, vocab: int, criterion: str) -> None:
    counts = random_counts(np.random.default_rng(seed), 250, "abcdef", 7)
    got = train_wordpiece(counts, vocab, special_tokens=["[UNK]"], criterion=criterion)
    words = list(counts)
    firsts = sorted({w[0] for w in words})
    rests = sorted({c for w in words for c in w[1:]})
    tokens = ["[UNK]"] + firsts + ["##" + c for c in rests]
    index = {t: i for i, t in enumerate(tokens)}
    ref_words = [[index[w[0]]] + [index["##" + c] for c in w[1:]] for w in words]
    train_wordpiece_reference(ref_words, list(counts.values()), tokens, "##", vocab, 0, criterion == "likelihood")
    assert list(got) == tokens


def test_wordpiece_prefers_likelihood_over_frequency() -> None:
    # 'xy' is frequent but x and y are everywhere; 'q' and 'z' only ever occur together
    counts = Counter({"xy": 100, "xa": 300, "by": 300, "qz": 5})
    vocab = train_wordpiece(counts, 9 + 1, special_tokens=["[UNK]"])
    assert "qz" in vocab and "xy" not in vocab


def test_unigram_e_step_and_viterbi_match_reference() -> None:
    from corpuskit.tokenizers.unigram import _e_step, _flat_codepoints, UnigramModel
    from corpuskit.tokenizers.unigram_kernels import expected_counts_reference, viterbi_reference

    rng = np.random.default_rng(7)
    pieces = list("abcd") + ["ab", "bc", "abc", "dd", "cab", "bcd"]
    scores = np.log(rng.uniform(0.1, 1.0, len(pieces)))
    words = ["".join(rng.choice(list("abcd"), size=int(rng.integers(1, 12)))) for _ in range(53)]
    counts = rng.integers(1, 5, len(words)).astype(np.float64)
    got, ll = _e_step(_flat_codepoints(words), counts, pieces, scores)
    ref, ref_ll = expected_counts_reference(words, list(counts), dict(zip(pieces, scores)))
    assert np.allclose(got, [ref.get(p, 0.0) for p in pieces])
    assert ll == pytest.approx(ref_ll)
    model = UnigramModel([("<unk>", 0.0)] + list(zip(pieces, scores.tolist())), 0)
    table = dict(zip(pieces, scores.tolist()))
    table["<unk>"] = 0.0
    words += ["axb", "zz", "xa", ""]
    for word, (ids, lens) in zip(words, model.tokenize_words(words)):
        ref_path = viterbi_reference(word, table, model.min_score - 10.0)
        assert [0 if unk else model.vocab[p] for p, unk in ref_path] == ids
        assert [len(p) for p, _ in ref_path] == lens


GPT2_TEXT = st.lists(st.one_of(st.characters(blacklist_categories=("Cs",)), st.sampled_from(["'s", "'ll", "'re", "'ve", " ", "  ", "\n", " \n ", "'", "1", "a", "\t"])), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(GPT2_TEXT, max_size=5))
def test_gpt2_scanner_matches_regex(texts: list[str]) -> None:
    import regex

    from corpuskit.tokenizers.fast_bytelevel import char_classes, split_texts
    from corpuskit.tokenizers.pretokenizers import GPT2_PATTERN

    starts = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(t) for t in texts], out=starts[1:])
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), np.uint32)
    ends = split_texts(cps, starts, char_classes()).tolist()
    expected = [int(starts[i]) + m.end() for i, t in enumerate(texts) for m in regex.finditer(GPT2_PATTERN, t)]
    assert ends == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(GPT2_TEXT, st.sampled_from(["Hello<|endoftext|>world", "tést ça", ""])), max_size=8))
def test_fast_byte_level_batch_equals_plain_encode(trained: dict, texts: list[str]) -> None:
    tok = trained["byte-bpe"]
    expected = [tok.encode(t) for t in texts]
    assert tok.encode_batch(texts) == expected
    assert tok.encode_batch(texts * 40, workers=2) == expected * 40


def test_fast_batch_reports_surrogates(trained: dict) -> None:
    with pytest.raises(ValueError, match="surrogate"):
        trained["byte-bpe"].encode_batch(["fine", "bad \udc80 text"])


def test_unigram_usage_counts_match_numpy() -> None:
    from corpuskit.tokenizers.unigram_kernels import usage_counts

    rng = np.random.default_rng(11)
    bounds = np.concatenate([[0], np.cumsum(rng.integers(0, 6, 37))]).astype(np.int64)
    ids = rng.integers(-1, 9, int(bounds[-1])).astype(np.int64)
    wcount = rng.integers(1, 5, 37).astype(np.float64)
    freq, containing = usage_counts(ids, bounds, wcount, 9)
    word_of = np.repeat(np.arange(37), np.diff(bounds))
    valid = ids >= 0
    assert np.allclose(freq, np.bincount(ids[valid], weights=wcount[word_of[valid]], minlength=9))
    pairs = np.unique(word_of[valid] * 9 + ids[valid])
    assert np.allclose(containing, np.bincount(pairs % 9, weights=wcount[pairs // 9], minlength=9))


@pytest.mark.parametrize("seed,max_len", [(0, 4), (1, 16), (2, 2)])
def test_unigram_substring_hashes_match_reference(seed: int, max_len: int) -> None:
    from corpuskit.tokenizers.unigram import _flat_codepoints
    from corpuskit.tokenizers.unigram_kernels import shared_substrings, substring_counts_reference, substring_hashes

    rng = np.random.default_rng(seed)
    words = ["".join(rng.choice(list("ab▁c中"), size=int(rng.integers(0, 12)))) for _ in range(61)] + ["", "▁", "▁▁a"]
    hashes, where = substring_hashes(*_flat_codepoints(words), max_len, ord("▁"))
    text = "".join(words)
    got: dict[str, int] = {}
    by_hash: dict[int, str] = {}
    for h, p in zip(hashes.tolist(), where.tolist()):
        s = text[p >> 8 : (p >> 8) + (p & 0xFF)]
        assert by_hash.setdefault(h, s) == s  # one string per hash
        got[s] = got.get(s, 0) + 1
    assert got == substring_counts_reference(words, max_len, "▁")
    where, occurrences = shared_substrings(*_flat_codepoints(words), max_len, ord("▁"))
    shared = {text[p >> 8 : (p >> 8) + (p & 0xFF)]: n for p, n in zip(where.tolist(), occurrences.tolist())}
    assert shared == {s: n for s, n in got.items() if n >= 2}


def test_unigram_e_step_log_space_path_for_long_words() -> None:
    """Words longer than the linear-space limit (here: very low scores) take the log-space path."""
    from corpuskit.tokenizers.unigram import _e_step, _flat_codepoints
    from corpuskit.tokenizers.unigram_kernels import expected_counts_reference

    pieces = ["a", "b", "ab", "ba", "aba"]
    scores = np.array([-300.0, -310.0, -305.0, -320.0, -330.0])
    words = ["ab" * 7, "a", "bab", "ab" * 2]
    counts = np.array([2.0, 1.0, 3.0, 1.0])
    got, ll = _e_step(_flat_codepoints(words), counts, pieces, scores)
    ref, ref_ll = expected_counts_reference(words, list(counts), dict(zip(pieces, scores)))
    assert np.allclose(got, [ref.get(p, 0.0) for p in pieces])
    assert ll == pytest.approx(ref_ll)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(GPT2_TEXT, max_size=30))
def test_gpt2_piece_counting_matches_regex(texts: list[str]) -> None:
    from collections import Counter

    import regex

    from corpuskit.tokenizers.fast_bytelevel import count_split_pieces
    from corpuskit.tokenizers.pretokenizers import GPT2_PATTERN

    expected = Counter(p for t in texts for p in regex.findall(GPT2_PATTERN, t))
    assert count_split_pieces(texts) == dict(expected)


def test_gpt2_piece_counting_grows_its_table() -> None:
    from collections import Counter

    import regex

    from corpuskit.tokenizers.fast_bytelevel import count_split_pieces
    from corpuskit.tokenizers.pretokenizers import GPT2_PATTERN

    def word(n: int) -> str:
        return "".join(chr(97 + (n // 26**k) % 26) for k in range(3))

    texts = [" ".join(word(50 * i + j) for j in range(50)) for i in range(200)]  # 10,000 distinct words
    counts = count_split_pieces(texts + texts[:3])
    assert len(counts) >= 10_000  # far past the initial 4,096 slots
    assert counts == dict(Counter(p for t in texts + texts[:3] for p in regex.findall(GPT2_PATTERN, t)))


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(GPT2_TEXT, max_size=30))
def test_whitespace_and_bert_piece_counting_match_regex(texts: list[str]) -> None:
    from collections import Counter

    from corpuskit.tokenizers.fast_bytelevel import MODE_BERT, MODE_WHITESPACE, count_split_pieces
    from corpuskit.tokenizers.pretokenizers import BertPreTokenizer, Whitespace

    for mode, pre in ((MODE_WHITESPACE, Whitespace()), (MODE_BERT, BertPreTokenizer())):
        assert count_split_pieces(texts, mode) == dict(Counter(p for t in texts for p in pre.split(t)))


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.one_of(GPT2_TEXT, st.sampled_from(["a[UNK]b c", "x \udcff y", "[UNK]", "é [UN", "K] z", " lead", "a  b ", "\u2581x\u2581\u2581y", "_u _", "ﬁ ①"])), max_size=40), block_chars=st.sampled_from([1, 7, 64, 1 << 20]))
def test_block_counting_on_a_thread_matches_plain_counting(texts: list[str], block_chars: int) -> None:
    """The numba path (blocks of texts counted on a second thread, whole-block fast checks) counts
    exactly what the plain path does: surrogates replaced and counted, special tokens cut out."""
    from corpuskit.tokenizers.counting import _count_numba, clean_surrogates
    from corpuskit.tokenizers.fast_bytelevel import MODE_BERT, MODE_GPT2, MODE_METASPACE, MODE_WHITESPACE
    from corpuskit.tokenizers.normalizers import BertNormalizer, build_normalizer
    import regex

    from corpuskit.tokenizers.pretokenizers import BertPreTokenizer, ByteLevel, Metaspace, PreTokenizer, Whitespace

    special_re = regex.compile(regex.escape("[UNK]"))
    cases = [(MODE_GPT2, ByteLevel(add_prefix_space=False), None), (MODE_WHITESPACE, Whitespace(), None), (MODE_BERT, BertPreTokenizer(), BertNormalizer())]
    cases += [(MODE_METASPACE, Metaspace(prepend_scheme=scheme), norm) for scheme in ("always", "first", "never") for norm in (None, build_normalizer("NFKC"))]
    cases += [(MODE_METASPACE, Metaspace(replacement="_"), None)]
    for mode, pre, norm in cases:
        expected: Counter = Counter()
        bad = 0
        for text in texts:
            text, n = clean_surrogates(text)
            bad += n
            for part in special_re.split(text):
                if part:
                    expected.update(pre.split_raw(norm.normalize(part) if norm is not None else part))
        if type(pre).map_word is not PreTokenizer.map_word:
            mapped: Counter = Counter()
            for w, c in expected.items():
                mapped[pre.map_word(w)] += c
            expected = mapped
        stats: Counter = Counter()
        got = _count_numba(iter(texts), norm, special_re, Counter(), stats, pre, mode, ["[UNK]"], block_chars)
        assert got == expected
        assert stats["texts"] == len(texts)
        assert stats["surrogates_replaced"] == bad


@pytest.mark.parametrize("seed,max_len,split_digits", [(3, 5, False), (4, 16, True), (5, 3, False)])
def test_unigram_seed_substrings_with_scripts_branching_and_weights_match_reference(seed: int, max_len: int, split_digits: bool) -> None:
    """The seed walk with every SentencePiece rule on (one script per piece, right-branching
    substrings only, occurrences weighted by word counts) against the plain-Python reference."""
    from corpuskit.tokenizers.scripts import script_classes
    from corpuskit.tokenizers.unigram import _flat_codepoints
    from corpuskit.tokenizers.unigram_kernels import shared_substrings, substring_counts_reference

    rng = np.random.default_rng(seed)
    alphabet = list("ab▁1,中あ\u0301")
    words = ["".join(rng.choice(alphabet, size=int(rng.integers(0, 10)))) for _ in range(83)] + ["", "▁", "▁1,1", "ab"]
    weights = rng.integers(1, 4, size=len(words))
    by_char = script_classes("".join(alphabet), split_digits=split_digits)
    cps, starts = _flat_codepoints(words)
    classes = np.array([by_char[chr(c)] for c in cps.tolist()], np.int32)
    where, occurrences = shared_substrings(cps, starts, max_len, ord("▁"), classes=classes, right_branching=True, weights=weights.astype(np.float64))
    text = "".join(words)
    got = {text[p >> 8 : (p >> 8) + (p & 0xFF)]: n for p, n in zip(where.tolist(), occurrences.tolist())}
    expected = substring_counts_reference(words, max_len, "▁", by_char, right_branching=True, weights=weights.tolist())
    assert got == expected and expected  # something survives every rule
    assert all("1" not in s or len(s) == 1 for s in got) if split_digits else any("1," in s for s in got)


def test_script_classes_follow_sentencepiece_grouping() -> None:
    from corpuskit.tokenizers.scripts import ALONE, ANY, is_valid_piece, script_classes

    c = script_classes("aZ,1'中あアー\u0301é")
    assert c["a"] == c["Z"] == c["é"] and c[","] == c["1"] == c["'"] != c["a"]
    assert c["中"] == c["あ"] == c["ア"] == c["ー"]  # kana and the long vowel mark fold into Han
    assert c["\u0301"] == ANY  # combining marks join what precedes them
    assert script_classes("1", split_digits=True)["1"] == ALONE and script_classes("1", split_by_number=False)["1"] == ANY
    unsplit = script_classes("a,1", split_digits=True, split_by_script=False)
    assert unsplit["a"] == unsplit[","] == ANY and unsplit["1"] == ALONE  # only the digit rule left
    latin = script_classes("▁don't 1990s,")
    assert is_valid_piece("▁don", latin) and not is_valid_piece("don't", latin) and not is_valid_piece("'t", latin)
    assert is_valid_piece("▁1990", latin) and is_valid_piece("1990,", latin) and not is_valid_piece("1990s", latin)
    assert is_valid_piece("▁中あ", c) and not is_valid_piece("a▁Z", c) and is_valid_piece("é\u0301a", c)


def test_split_at_rare_characters_keeps_counts_and_coverage() -> None:
    from corpuskit.tokenizers.unigram import split_at_rare_characters

    counts = {"▁aab": 100, "▁a#b": 1, "▁#": 3}
    # '#' is 4 of 410 characters: coverage 0.99 drops it, 1.0 keeps everything
    assert split_at_rare_characters(counts, 1.0) == counts
    assert split_at_rare_characters(counts, 0.99) == {"▁aab": 100, "▁a": 1, "b": 1, "▁": 3}
