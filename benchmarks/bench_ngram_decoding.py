"""n-gram decoding benchmark: the batched, stateful `LanguageModel` path against the prefix path it
replaced, and kenlm's word-by-word `BaseScore` facade against the `kenlm` module.

Decoding anchor: the interface before this one, a `prefix -> logprobs` function called once per
hypothesis with the whole prefix (`PrefixModel` over `next_log10probs`), one prompt at a time.
Both must give the same greedy and beam outputs (checked). Queries: `BaseScore` over the test
sentences, state by state, ours and kenlm's on the same ARPA.

    .venv/bin/python benchmarks/bench_ngram_decoding.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import record, shared_data, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="order 3 only, 16 prompts")
    args = parser.parse_args()
    import kenlm

    from corpuskit.lm.decoding import DecodingConfig, PrefixModel, generate
    from corpuskit.lm.ngram import NGramTrainer
    from corpuskit.lm.ngram.kenlm_api import State
    from corpuskit.lm.ngram.vocab import BOS_ID, EOS_ID, UNK_ID

    train = shared_data("en/train.txt").read_text(encoding="utf-8").lower().splitlines()[:50_000]
    test = shared_data("en/test.txt").read_text(encoding="utf-8").lower().splitlines()
    n_prompts = 16 if args.quick else 32
    rows = []
    for order in [3] if args.quick else [3, 5]:
        model = NGramTrainer(order=order, discount_fallback=True).train(train)
        prompts = [model.sentence_ids(" ".join(line.split()[:3])) for line in test[: n_prompts]]
        old = PrefixModel(lambda tokens: model.next_log10probs(tokens) * math.log(10.0), model.vocab_size)
        banned = {"banned_tokens": (UNK_ID, BOS_ID)}
        configs = {"greedy": DecodingConfig(max_tokens=20, stop_tokens=(EOS_ID,), **banned),
                   "beam 4": DecodingConfig(strategy="beam", beam_size=4, max_tokens=20, stop_tokens=(EOS_ID,), **banned),
                   "top-p 0.9": DecodingConfig(strategy="top-p", top_p=0.9, max_tokens=20, stop_tokens=(EOS_ID,), **banned)}
        generate(model, prompts[:2], configs["beam 4"])  # compile and build the lookup table
        for name, cfg in configs.items():
            t_new, new_out = timed(lambda: generate(model, prompts, cfg), repeat=2)
            t_old, old_out = timed(lambda: [generate(old, [[BOS_ID, *p]], cfg)[0] for p in prompts], repeat=2)
            same = "yes" if new_out == old_out else ("n/a (batch draws)" if name.startswith("top") else "NO")
            tokens = sum(map(len, new_out))
            rows.append([order, name, len(prompts), tokens, t_new, t_old, t_old / t_new, same])
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / "m.arpa")
            ref = kenlm.Model(str(Path(tmp) / "m.arpa"))
        sentences = [line.split() for line in test[:2000]]
        n_words = sum(len(s) + 1 for s in sentences)

        def walk(m, state_type):
            total = 0.0
            for words in sentences:
                state, out = state_type(), state_type()
                m.BeginSentenceWrite(state)
                for word in words + ["</s>"]:
                    total += m.BaseScore(state, word, out)
                    state, out = out, state
            return total

        t_ours, ours_total = timed(lambda: walk(model, State), repeat=2)
        t_kenlm, kenlm_total = timed(lambda: walk(ref, kenlm.State), repeat=2)
        assert abs(ours_total - kenlm_total) < 1e-3 * n_words, (ours_total, kenlm_total)
        rows.append([order, "BaseScore (kenlm: anchor)", len(sentences), n_words, t_ours, t_kenlm, t_kenlm / t_ours, "sum equal"])
    record("n-gram decoding: batched LanguageModel vs the prefix path; BaseScore vs kenlm",
           ["order", "task", "prompts / sentences", "tokens", "ours s", "anchor s", "anchor / ours (> 1: we are faster)", "same output"],
           rows, "python benchmarks/bench_ngram_decoding.py" + (" --quick" if args.quick else ""),
           "Model: first 50,000 lines of en/train.txt, lower-cased; prompts: first three words of test lines. "
           "Decoding anchor: the old prefix path (one model call per hypothesis with the whole prefix, one prompt at a "
           "time). Shared 2-core machine: read the ratios.")


if __name__ == "__main__":
    main()
