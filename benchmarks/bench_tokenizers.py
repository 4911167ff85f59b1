"""Tokenizer benchmark: corpuskit against HF tokenizers, sentencepiece and tiktoken, side by side.

Training wall time and peak RSS (each run in a fresh subprocess so RSS is its own) for BPE,
byte-level BPE and WordPiece against HF `tokenizers`, Unigram against sentencepiece; id agreement
with HF on held-out text; bytes per token; byte-level encoding throughput against tiktoken
(same vocabulary, `encode_ordinary` loop) and HF `encode_batch`; with --long-words only, the
encoding time of one 100k/200k/400k-character word (a base64-like blob in a crawl) against HF.

    .venv/bin/python benchmarks/bench_tokenizers.py [--quick | --long-words]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, record, shared_data  # noqa: E402

MODELS = ["bpe", "byte-bpe", "wordpiece", "wordpiece-freq", "unigram"]


class PrivateMemoryPeak:
    """Peak private (anonymous) memory of this process, sampled every 5 ms on a thread.

    Total RSS also counts the mapped pages of shared libraries (LLVM's alone is ~67 MB for
    numba), which are clean, shared and reclaimable; the anonymous part is what a job allocates.
    """

    def __init__(self) -> None:
        import threading

        self.peak_mb = 0.0
        threading.Thread(target=self._sample, daemon=True).start()

    def read(self) -> float:
        return _status_mb("RssAnon:") or 0.0

    def _sample(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self.read())
            time.sleep(0.005)

    def final(self) -> float:
        return max(self.peak_mb, self.read())


def _status_mb(field: str) -> float | None:
    """A kB field of /proc/self/status in MB (None where there is no /proc)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def own_peak_rss_mb() -> float:
    """Peak RSS of this process image (VmHWM restarts at exec; ru_maxrss would include the parent's)."""
    peak = _status_mb("VmHWM:")
    return peak if peak is not None else peak_rss_mb()


def job(impl: str, model: str, vocab: int, train: str, out: str) -> None:
    """Train one tokenizer in this (fresh) process; print seconds, peak RSS and peak private memory as JSON."""
    private = PrivateMemoryPeak()
    start = time.perf_counter()
    if impl == "ours":
        from corpuskit.tokenizers.trainers import TRAINERS

        if model == "wordpiece-freq":
            TRAINERS["wordpiece"](vocab_size=vocab, criterion="frequency").train_files([train]).save(out)
        else:
            TRAINERS[model](vocab_size=vocab).train_files([train]).save(out)
    elif impl == "spm":
        import sentencepiece as spm

        # max_sentence_length: sentencepiece skips lines over 4,192 bytes by default (142 of
        # train.txt); raised so both sides learn from the same text
        spm.SentencePieceTrainer.train(input=train, model_prefix=out, vocab_size=vocab, model_type="unigram", num_threads=2, minloglevel=2, max_sentence_length=1 << 24)
    else:
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        if model == "bpe":
            tok = Tokenizer(models.BPE(unk_token="[UNK]"))
            tok.pre_tokenizer = pre_tokenizers.Whitespace()
            trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["[UNK]"], show_progress=False)
        elif model == "byte-bpe":
            tok = Tokenizer(models.BPE())
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        else:
            tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
            tok.normalizer = normalizers.BertNormalizer()
            tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            trainer = trainers.WordPieceTrainer(vocab_size=vocab, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
        tok.train([train], trainer=trainer)
        tok.save(out)
    print(json.dumps({"seconds": time.perf_counter() - start, "rss_mb": own_peak_rss_mb(), "private_mb": private.final()}))


def run_job(impl: str, model: str, vocab: int, train: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--job", impl, model, str(vocab), str(train), str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=str(Path(__file__).resolve().parent))
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bytes_per_token(lengths: list[int], n_bytes: int) -> float:
    return n_bytes / max(sum(lengths), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="vocabulary 8,000 only, ~10 MB encoding run")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=MODELS, help="models to train (default: all)")
    parser.add_argument("--long-words", action="store_true", help="only: encoding time of one very long word against HF")
    parser.add_argument("--job", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        impl, model, vocab, train, out = args.job
        job(impl, model, int(vocab), train, out)
        return
    if args.long_words:
        long_word_bench("python benchmarks/bench_tokenizers.py --long-words")
        return

    from tokenizers import Tokenizer as HFTokenizer

    from corpuskit.tokenizers.tokenizer import Tokenizer

    train = shared_data("en/train.txt")
    test_lines = shared_data("en/test.txt").read_text(encoding="utf-8").splitlines()
    test_bytes = sum(len(line.encode("utf-8")) for line in test_lines)
    vocabs = [8_000] if args.quick else [32_000, 8_000]
    command = "python benchmarks/bench_tokenizers.py" + (" --quick" if args.quick else "") + ("" if args.models == MODELS else " --models " + " ".join(args.models))
    work = Path(tempfile.mkdtemp(prefix="bench_tokenizers_"))

    # the runtime's floor: the same job on 2,000 lines at vocabulary 1,000 (imports, kernels loaded)
    tiny = work / "tiny.txt"
    with open(train, encoding="utf-8") as source:
        tiny.write_text("".join(line for _, line in zip(range(2000), source)), encoding="utf-8")
    floors = {}
    for model in args.models:
        for impl in ("ours", "spm" if model == "unigram" else "hf"):
            floors[impl, model] = run_job(impl, model, 1000, tiny, work / f"floor-{impl}-{model}")
    train_rows, memory_rows, agree_rows, compress_rows = [], [], [], []
    for vocab in vocabs:
        for model in args.models:
            anchor = "spm" if model == "unigram" else "hf"
            ours_path = work / f"ours-{model}-{vocab}.json"
            anchor_path = work / f"{anchor}-{model}-{vocab}" if anchor == "spm" else work / f"hf-{model}-{vocab}.json"
            ours = run_job("ours", model, vocab, train, ours_path)
            theirs = run_job(anchor, model, vocab, train, anchor_path)
            name = "sentencepiece" if anchor == "spm" else "HF tokenizers"
            train_rows.append([model, vocab, name, ours["seconds"], theirs["seconds"], ours["seconds"] / theirs["seconds"]])
            ours_floor, theirs_floor = floors["ours", model], floors[anchor, model]
            ours_work = ours["private_mb"] - ours_floor["private_mb"]
            theirs_work = theirs["private_mb"] - theirs_floor["private_mb"]
            memory_rows.append([
                model, vocab, name,
                ours["rss_mb"], theirs["rss_mb"], ours["private_mb"], theirs["private_mb"],
                ours_floor["private_mb"], theirs_floor["private_mb"], ours_work, theirs_work, ours_work / theirs_work,
            ])  # fmt: skip
            print(train_rows[-1], memory_rows[-1], flush=True)

            tok = Tokenizer.load(ours_path)
            hf_of_ours = HFTokenizer.from_file(str(ours_path))
            our_ids = tok.encode_batch(test_lines)
            same = sum(a == b.ids for a, b in zip(our_ids, hf_of_ours.encode_batch(test_lines)))
            ours_bpt = bytes_per_token([len(i) for i in our_ids], test_bytes)
            if anchor == "spm":
                import sentencepiece as spm

                sp = spm.SentencePieceProcessor(model_file=f"{anchor_path}.model")
                anchor_bpt = bytes_per_token([len(i) for i in sp.encode(test_lines)], test_bytes)
                loaded_same = "n/a (spm .model)"
            else:
                hf = HFTokenizer.from_file(str(anchor_path))
                hf_ids = [e.ids for e in hf.encode_batch(test_lines)]
                anchor_bpt = bytes_per_token([len(i) for i in hf_ids], test_bytes)
                ours_of_hf = Tokenizer.load(anchor_path)
                loaded_same = f"{sum(a == b for a, b in zip(ours_of_hf.encode_batch(test_lines), hf_ids)) / len(test_lines):.2%}"
            agree_rows.append([model, vocab, f"{same / len(test_lines):.2%}", loaded_same])
            compress_rows.append([model, vocab, name, ours_bpt, anchor_bpt, ours_bpt / anchor_bpt - 1.0])

    record(
        "Tokenizer training on en/train.txt (15 MB)",
        ["model", "vocab", "anchor", "ours s", "anchor s", "ours/anchor (target <= 1.0)"],
        train_rows,
        command,
        "Each run in a fresh process (imports and numba cache loading included). 2 shared cores: times are noisy, read the ratio.",
    )
    record(
        "Tokenizer training memory on en/train.txt (MB)",
        [
            "model", "vocab", "anchor", "ours peak RSS", "anchor peak RSS", "ours peak private", "anchor peak private",
            "ours floor private", "anchor floor private", "ours training (private - floor)", "anchor training (private - floor)",
            "training memory ours/anchor (target <= 1.0)",
        ],
        memory_rows,
        command,
        "Peak RSS counts mapped shared-library pages (numba's LLVM: ~67 MB, clean and shared); private = anonymous memory, "
        "sampled every 5 ms. Floor: the same job on 2,000 lines at vocabulary 1,000, i.e. the interpreter, the library and "
        "(ours) numba's runtime with our kernels loaded, ~75 MB private against ~6 MB for the Rust/C++ anchors.",
    )  # fmt: skip
    record(
        "Tokenizer id agreement on en/test.txt lines",
        ["model", "vocab", "HF loading our file: lines identical", "we loading the anchor's file: lines identical"],
        agree_rows,
        command,
    )
    record(
        "Compression on en/test.txt (bytes per token, higher is better)",
        ["model", "vocab", "anchor", "ours", "anchor", "ours/anchor - 1 (target within +-1%)"],
        compress_rows,
        command,
        "wordpiece: ours ranks merges by likelihood (count(AB)/(count(A)count(B))); HF's WordPieceTrainer ranks by frequency, so vocabularies differ by design. wordpiece-freq: ours with criterion='frequency'. "
        "unigram: both at sentencepiece's defaults (character coverage 0.9995, one script per piece), sentencepiece's line-length limit lifted so both see every line.",
    )
    if "byte-bpe" in args.models:
        encoding_bench(work / f"ours-byte-bpe-{vocabs[0]}.json", test_lines, 10 if args.quick else 50, command)


def encoding_bench(path: Path, test_lines: list[str], megabytes: int, command: str) -> None:
    """Byte-level encoding throughput on test.txt repeated to `megabytes` MB."""
    import tiktoken
    from tokenizers import Tokenizer as HFTokenizer

    from corpuskit.tokenizers.bytelevel import chars_to_bytes
    from corpuskit.tokenizers.pretokenizers import GPT2_PATTERN
    from corpuskit.tokenizers.tokenizer import Tokenizer

    size = sum(len(line.encode("utf-8")) + 1 for line in test_lines)
    lines = test_lines * max(1, round(megabytes * 1e6 / size))
    n_bytes = sum(len(line.encode("utf-8")) for line in lines)
    tok = Tokenizer.load(path)
    ranks = {chars_to_bytes(t): i for t, i in tok.model.vocab.items() if chars_to_bytes(t) is not None}
    enc = tiktoken.Encoding("bench", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens={})
    hf = HFTokenizer.from_file(str(path))
    rows = []
    start = time.perf_counter()
    tk_ids = [enc.encode_ordinary(line) for line in lines]
    tk_s = time.perf_counter() - start
    for label, fn in [
        ("corpuskit encode_batch, 1 thread", lambda: tok.encode_batch(lines)),
        ("corpuskit encode_batch, 2 threads", lambda: tok.encode_batch(lines, workers=2)),
        ("HF encode_batch (all cores)", lambda: [e.ids for e in hf.encode_batch(lines)]),
    ]:
        start = time.perf_counter()
        ids = fn()
        seconds = time.perf_counter() - start
        rows.append([label, n_bytes / seconds / 1e6, tk_s / seconds, "yes" if ids == tk_ids else "NO"])
    rows.append(["tiktoken encode_ordinary loop, 1 thread", n_bytes / tk_s / 1e6, 1.0, "yes"])
    record(
        f"Byte-level BPE encoding throughput ({n_bytes / 1e6:.0f} MB: en/test.txt repeated, vocab {len(ranks):,})",
        ["encoder", "MB/s", "speed vs tiktoken (target >= 1.0 single-threaded)", "ids equal tiktoken"],
        rows,
        command,
        "corpuskit's first pass fills its word cache: repeated text favours caches (ours and HF's alike). 2 shared cores: noisy.",
    )


def long_word_bench(command: str) -> None:
    """Encoding one word of 100k/200k/400k random letters (one pre-token) with ours and HF.

    Both load the same tokenizer.json (vocabulary 8,000, trained here on 20,000 lines of
    en/train.txt); a warm-up call first, so numba's compile time is not counted.
    """
    import random
    import string

    from tokenizers import Tokenizer as HFTokenizer

    from corpuskit.tokenizers.tokenizer import Tokenizer
    from corpuskit.tokenizers.trainers import TRAINERS

    with open(shared_data("en/train.txt"), encoding="utf-8") as source:
        lines = [line for _, line in zip(range(20_000), source)]
    work = Path(tempfile.mkdtemp(prefix="bench_long_words_"))
    rng = random.Random(0)
    rows = []
    for model in ("bpe", "byte-bpe"):
        path = work / f"{model}.json"
        TRAINERS[model](vocab_size=8_000).train(iter(lines)).save(path)
        ours, hf = Tokenizer.load(path), HFTokenizer.from_file(str(path))
        ours.encode("warm up " * 100)
        for n in (100_000, 200_000, 400_000):
            word = "".join(rng.choice(string.ascii_letters) for _ in range(n))
            start = time.perf_counter()
            ids = ours.encode(word)
            ours_s = time.perf_counter() - start
            start = time.perf_counter()
            hf_ids = hf.encode(word).ids
            hf_s = time.perf_counter() - start
            rows.append([model, f"{n:,}", ours_s, hf_s, ours_s / hf_s, "yes" if ids == hf_ids else "NO"])
            print(rows[-1], flush=True)
    record(
        "Encoding one very long word (random letters, one pre-token)",
        ["model", "characters", "ours s (target < 1.0)", "HF s", "ours/HF", "ids equal HF"],
        rows,
        command,
        "Before the heap merge (round 2) ours took 2.6 / 10.1 / 43 s for 100k / 200k / 400k characters (quadratic). 2 shared cores: noisy.",
    )


if __name__ == "__main__":
    main()
