"""The n-gram model as a `LanguageModel`: same outputs as the prefix-based decoding it replaced.

`old_*` below is the code path before the protocol, kept verbatim as the reference: a function
from the whole prefix to log-probabilities, called once per hypothesis.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from corpuskit.lm.decoding import DecodingConfig, LanguageModel, beam_search, generate
from corpuskit.lm.ngram import NGramModel, NGramTrainer, kernels
from corpuskit.lm.ngram.reference import score_ref
from corpuskit.lm.ngram.sampling import generate_text, generate_texts
from corpuskit.lm.ngram.vocab import BOS_ID, EOS_ID, UNK_ID

# --- the old code path (reference) ------------------------------------------------------------


def old_next_log10probs(model: NGramModel, history: list[int]) -> np.ndarray:
    table = model._child_table()
    v = len(model.words)
    nodes: list[int] = []
    for m in range(1, min(len(history), model.order - 1) + 1):
        node = int(history[-m])
        for w in history[len(history) - m + 1 :]:
            node = int(kernels.find_child(table, node, int(w), v))
            if node < 0:
                break
        if node < 0:
            break
        nodes.append(node)
    scores = model.prob[:v].astype(np.float64)
    for node in nodes:
        k = int(np.searchsorted(model.offsets, node, side="right"))
        start, stop = model.offsets[k], model.offsets[k + 1]
        lo = start + np.searchsorted(model.parent[start:stop], node, side="left")
        hi = start + np.searchsorted(model.parent[start:stop], node, side="right")
        scores += model.backoff[node]
        scores[model.word[lo:hi]] = model.prob[lo:hi]
    scores[BOS_ID] = model.LOG_ZERO
    return scores


def old_log_softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    top = np.max(logits)
    return logits - top - math.log(np.sum(np.exp(logits - top)))


def old_prepare(logprobs, generated, cfg):
    out = np.asarray(logprobs, dtype=np.float64)
    if cfg.banned_tokens:
        out = out.copy()
        out[list(cfg.banned_tokens)] = -np.inf
    if not generated or (cfg.frequency_penalty == 0 and cfg.presence_penalty == 0):
        return out
    ids, counts = np.unique(np.asarray(generated, dtype=np.int64), return_counts=True)
    out = out.copy()
    out[ids] -= cfg.frequency_penalty * counts + cfg.presence_penalty
    return out


def old_sample_next(logprobs, cfg, rng, generated):
    scores = old_prepare(logprobs, generated, cfg)
    if cfg.strategy == "greedy" or cfg.temperature == 0:
        return int(np.argmax(scores))
    scores = scores / cfg.temperature
    if cfg.strategy in ("top-k", "sample") and cfg.top_k:
        threshold = np.partition(scores, -cfg.top_k)[-cfg.top_k]
        scores = np.where(scores >= threshold, scores, -np.inf)
    if cfg.strategy in ("top-p", "sample") and cfg.top_p < 1:
        probs = np.exp(old_log_softmax(scores))
        order = np.argsort(-probs, kind="stable")
        keep_n = int(np.searchsorted(np.cumsum(probs[order]), cfg.top_p - 1e-12) + 1)
        cut = np.full_like(scores, -np.inf)
        cut[order[:keep_n]] = scores[order[:keep_n]]
        scores = cut
    probs = np.exp(old_log_softmax(scores))
    return int(rng.choice(probs.size, p=probs / probs.sum()))


def old_generate(next_logprobs, prompt, cfg):
    if cfg.strategy == "beam":
        return old_beam_search(next_logprobs, prompt, cfg)[0][0]
    rng = np.random.default_rng(cfg.seed)
    tokens, out = list(prompt), []
    for _ in range(cfg.max_tokens):
        token = old_sample_next(next_logprobs(tokens), cfg, rng, out)
        out.append(token)
        tokens.append(token)
        if token in set(cfg.stop_tokens):
            break
    return out


def old_beam_search(next_logprobs, prompt, cfg):
    stops = set(cfg.stop_tokens)

    def normalised(logp, length):
        return logp / (max(length, 1) ** cfg.length_penalty) if cfg.length_penalty else logp

    beams, finished = [([], 0.0)], []
    for _ in range(cfg.max_tokens):
        candidates = []
        for tokens, logp in beams:
            scores = old_log_softmax(old_prepare(next_logprobs(list(prompt) + tokens), tokens, cfg))
            k = min(cfg.beam_size, int(np.isfinite(scores).sum()))
            for token in np.argpartition(-scores, k - 1)[:k]:
                new_logp = logp + float(scores[token])
                candidates.append((normalised(new_logp, len(tokens) + 1), tokens + [int(token)], new_logp))
        candidates.sort(key=lambda c: -c[0])
        beams = []
        for norm, tokens, logp in candidates:
            if tokens[-1] in stops:
                finished.append((tokens, logp))
            else:
                beams.append((tokens, logp))
            if len(beams) == cfg.beam_size:
                break
        finished.sort(key=lambda f: -normalised(f[1], len(f[0])))
        finished = finished[: cfg.beam_size]
        if not beams:
            break
        if len(finished) == cfg.beam_size and cfg.length_penalty == 0:
            if normalised(beams[0][1], len(beams[0][0])) <= normalised(finished[-1][1], len(finished[-1][0])):
                break
    pool = finished + beams if len(finished) < cfg.beam_size else finished
    ranked = sorted(((t, normalised(lp, len(t))) for t, lp in pool), key=lambda r: -r[1])
    return ranked[: cfg.beam_size]


# --- tests ----------------------------------------------------------------------------------

PROMPTS = ["", "w0", "w1 w2", "w5 unknownword w3", "w3 w3 w3", "w7 w1 w0 w2 w4"]
SENTENCE = {"stop_tokens": (EOS_ID,), "banned_tokens": (UNK_ID, BOS_ID)}
RUN_ON = {"banned_tokens": (UNK_ID, BOS_ID, EOS_ID)}  # never stops: long contexts, many backoffs
CONFIGS = [
    DecodingConfig(max_tokens=15, **SENTENCE),
    DecodingConfig(max_tokens=20, **RUN_ON),
    DecodingConfig(max_tokens=12, presence_penalty=0.5, frequency_penalty=0.3, **RUN_ON),
    DecodingConfig(strategy="beam", beam_size=4, length_penalty=0.0, max_tokens=12, **SENTENCE),
    DecodingConfig(strategy="beam", beam_size=3, length_penalty=1.0, max_tokens=10, **SENTENCE),
    DecodingConfig(strategy="beam", beam_size=5, length_penalty=0.5, max_tokens=8, frequency_penalty=0.2, **SENTENCE),
    DecodingConfig(strategy="beam", beam_size=2, length_penalty=0.0, max_tokens=9, **RUN_ON),
]


@pytest.fixture(scope="module", params=[2, 3, 5])
def model(request, train_sentences) -> NGramModel:
    return NGramTrainer(order=request.param, discount_fallback=request.param > 3).train(train_sentences)


def old_path(model: NGramModel):
    return lambda tokens: old_next_log10probs(model, tokens) * math.log(10.0)


def test_greedy_and_beam_outputs_are_the_old_ones(model: NGramModel) -> None:
    assert isinstance(model, LanguageModel) and model.vocab_size == len(model.words)
    prompts = [model.sentence_ids(p) for p in PROMPTS]
    for cfg in CONFIGS:
        batched = generate(model, prompts, cfg)
        expected = [old_generate(old_path(model), [BOS_ID, *p], cfg) for p in prompts]
        assert batched == expected, cfg
    cfg = CONFIGS[5]
    hypotheses = beam_search(model, prompts, cfg)
    for got, p in zip(hypotheses, prompts):
        assert got == old_beam_search(old_path(model), [BOS_ID, *p], cfg)  # every hypothesis and score


def test_one_prompt_samples_like_the_old_path(model: NGramModel) -> None:
    for cfg in (DecodingConfig(strategy="top-p", top_p=0.9, max_tokens=12, seed=3, **SENTENCE),
                DecodingConfig(strategy="sample", top_k=20, temperature=1.3, max_tokens=12, seed=4, **RUN_ON)):
        for text in PROMPTS[:3]:
            ids = model.sentence_ids(text)
            assert generate(model, [ids], cfg)[0] == old_generate(old_path(model), [BOS_ID, *ids], cfg)


def test_distributions_equal_the_old_ones_and_textbook_backoff(model: NGramModel, test_sentences) -> None:
    ngrams = {g: (p, b) for k in range(1, model.order + 1) for g, p, b in model.ngrams(k)}
    histories = [[BOS_ID, *model.sentence_ids(s)] for s in test_sentences[:12]]
    logprobs, state = model.start([h[1:] for h in histories])
    np.testing.assert_array_equal(logprobs, np.stack([old_path(model)(h) for h in histories]))
    for row, history in enumerate(histories[:4]):
        words = [w for w in range(model.vocab_size) if w != BOS_ID]
        textbook = [score_ref(history[1:] + [w], ngrams, model.order, eos=False)[-1] for w in words]
        np.testing.assert_allclose(logprobs[row, words] / math.log(10.0), textbook, atol=1e-5)
    np.testing.assert_array_equal(model.next_log10probs(histories[0]), old_next_log10probs(model, histories[0]))


def test_stepping_scores_each_word_as_the_sentence_scorer(model: NGramModel, test_sentences) -> None:
    sentences = test_sentences[:25]
    ids = [model.sentence_ids(s) + [EOS_ID] for s in sentences]
    logprobs, state = model.start([[] for _ in ids])
    longest = max(map(len, ids))
    stepped: list[list[float]] = [[] for _ in ids]
    live = list(range(len(ids)))
    for t in range(longest):
        for row, r in enumerate(live):
            stepped[r].append(logprobs[row, ids[r][t]] / math.log(10.0))
        keep = [row for row, r in enumerate(live) if t + 1 < len(ids[r])]
        live = [live[row] for row in keep]
        if not live:
            break
        state = model.reorder(state, np.array(keep))
        logprobs, state = model.step(state, np.array([ids[r][t] for r in live]))
    for sentence, got in zip(sentences, stepped):
        np.testing.assert_allclose(got, [p for p, _, _ in model.full_scores(sentence)], rtol=0, atol=1e-12)


def test_start_reorder_and_bad_ids(model: NGramModel) -> None:
    ids = model.sentence_ids("w1 w2 w3")
    with_bos, _ = model.start([[BOS_ID, *ids]])
    plain, state = model.start([ids, [], ids[:1]])
    np.testing.assert_array_equal(with_bos[0], plain[0])
    picked = model.reorder(state, np.array([2, 0, 0]))
    again, _ = model.step(picked, np.array([ids[1], 7, 7]))
    direct, _ = model.step(state, np.array([7, 0, ids[1]]))
    np.testing.assert_array_equal(again[[0, 1, 2]], direct[[2, 0, 0]])
    with pytest.raises(ValueError, match="token id 99999 is not in this model's vocabulary"):
        model.step(state, np.array([1, 2, 99999]))
    with pytest.raises(ValueError, match="3 rows"):
        model.step(state, np.array([1]))


def test_generate_text_continues_prompts_in_a_batch(model: NGramModel) -> None:
    cfg = DecodingConfig(strategy="beam", beam_size=3, max_tokens=10)
    texts = generate_texts(model, ["w1", "w0 w2"], cfg)
    assert texts == [generate_text(model, "w1", cfg), generate_text(model, "w0 w2", cfg)]
    assert all(w in model for text in texts for w in text.split())
    old = old_generate(old_path(model), [BOS_ID, *model.sentence_ids("w1")], replace(cfg, **SENTENCE))
    assert texts[0] == " ".join(model.words[t] for t in old if t != EOS_ID)
