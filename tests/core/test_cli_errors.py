"""Broken models and inputs end every command with one line naming the file: no traceback, no
bare "Aborted!"; model loaders refuse values that would silently give wrong results."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpuskit.cli import main
from corpuskit.modelfile import ModelFileError

ARPA = """\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.3
-0.7\t</s>
-0.5\tthe\t-0.2
-0.6\tcat\t-0.1

\\2-grams:
-0.2\t<s> the
-0.3\tthe cat
-0.1\tcat </s>

\\end\\
"""


def one_line_error(result, *names: str) -> str:
    assert result.exit_code == 1, result.output
    text = result.output.strip()
    assert "Traceback" not in text and "Aborted" not in text, text
    last = text.splitlines()[-1]
    assert last.startswith("Error: "), text
    for name in names:
        assert name in last, (name, last)
    return last


def cut_gzip(path, text: str, keep: float = 0.5) -> None:
    data = gzip.compress(text.encode())
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.fixture
def corpus_text() -> str:
    return "".join(f"the cat sat on mat number {i} and the dog ran off again\n" for i in range(400))


def test_lm_commands_name_a_cut_arpa_a_damaged_npz_and_bad_values(tmp_path, corpus_text):
    run = CliRunner().invoke
    (tmp_path / "c.txt").write_text("the cat\n")
    cut_gzip(tmp_path / "cut.arpa.gz", ARPA * 40, 0.3)  # long enough to stream, cut mid-way
    one_line_error(run(main, ["lm", "ngram", "perplexity", str(tmp_path / "cut.arpa.gz"), str(tmp_path / "c.txt")]), "cut.arpa.gz", "truncated")
    (tmp_path / "empty.npz").write_bytes(b"")
    one_line_error(run(main, ["lm", "ngram", "perplexity", str(tmp_path / "empty.npz"), str(tmp_path / "c.txt")]), "empty.npz", "empty file")
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    one_line_error(run(main, ["lm", "ngram", "perplexity", str(tmp_path / "cut.npz"), str(tmp_path / "c.txt")]), "cut.npz", "truncated")
    for bad, value in (("positive", "0.5"), ("nan", "nan")):
        path = tmp_path / f"{bad}.arpa"
        path.write_text(ARPA.replace("-0.3\tthe cat", f"{value}\tthe cat"))
        one_line_error(run(main, ["lm", "ngram", "perplexity", str(path), str(tmp_path / "c.txt")]), f"{bad}.arpa:14", "log10 probability <= 0")
    cut_gzip(tmp_path / "in.txt.gz", corpus_text)
    one_line_error(run(main, ["lm", "ngram", "train", str(tmp_path / "in.txt.gz"), "-o", str(tmp_path / "m.arpa")]), "in.txt.gz:", "truncated")


def test_arpa_and_native_ngram_loaders_refuse_bad_values(tmp_path):
    from corpuskit.lm.ngram.model import NGramModel

    good = tmp_path / "good.arpa"
    good.write_text(ARPA)
    model = NGramModel.load(good)
    model.save(tmp_path / "m.npz")
    assert NGramModel.load(tmp_path / "m.npz").order == 2
    with np.load(tmp_path / "m.npz") as data:
        arrays = {name: data[name].copy() for name in data.files}
    arrays["prob"][3] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"nan\.npz.*a probability > 0 or a NaN"):
        NGramModel.load(tmp_path / "nan.npz")
    for value in ("0.5", "nan"):
        path = tmp_path / "bad.arpa"
        path.write_text(ARPA.replace("-0.6\tcat\t-0.1", f"{value}\tcat\t-0.1"))
        with pytest.raises(ModelFileError, match=r"bad\.arpa:10"):
            NGramModel.load(path)


def test_embed_commands_name_broken_vector_files_and_bad_options(tmp_path, corpus_text):
    from corpuskit.embeddings.keyed_vectors import KeyedVectors

    run = CliRunner().invoke
    (tmp_path / "empty.npz").write_bytes(b"")
    one_line_error(run(main, ["embed", "similar", str(tmp_path / "empty.npz"), "the"]), "empty.npz", "empty file")
    vectors = np.ones((3, 4), np.float32)
    KeyedVectors(["a", "b", "c"], vectors).save(tmp_path / "ok.npz")
    data = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    one_line_error(run(main, ["embed", "similar", str(tmp_path / "cut.npz"), "a"]), "cut.npz")
    vectors = vectors.copy()
    vectors[1, 2] = np.nan
    for name in ("nan.npz", "nan.txt"):
        KeyedVectors(["a", "b", "c"], vectors).save(tmp_path / name)
        one_line_error(run(main, ["embed", "similar", str(tmp_path / name), "a"]), name, "NaN or infinity in the vector of 'b'")
    (tmp_path / "c.txt").write_text(corpus_text)
    for option in (["--alpha", "0"], ["--dim", "0"], ["--window", "-1"], ["--model", "glove", "--eta", "0"]):
        one_line_error(run(main, ["embed", "train", str(tmp_path / "c.txt"), "-o", str(tmp_path / "v.npz"), "--quiet", *option]), "must be positive")
    assert not (tmp_path / "v.npz").exists()
    cut_gzip(tmp_path / "in.txt.gz", corpus_text)
    one_line_error(run(main, ["embed", "train", str(tmp_path / "in.txt.gz"), "-o", str(tmp_path / "v.npz"), "--quiet"]), "in.txt.gz:", "truncated")


def test_tokenizer_commands_name_bad_vocabularies_and_broken_input(tmp_path, corpus_text):
    from corpuskit.tokenizers.trainers import BPETrainer

    run = CliRunner().invoke
    BPETrainer(vocab_size=120).train(iter(corpus_text.splitlines())).save(tmp_path / "tok.json")
    good = json.loads((tmp_path / "tok.json").read_text())
    tokens = list(good["model"]["vocab"])
    (tmp_path / "h.txt").write_text("the cat\n")
    cases = {
        "list.json": lambda v: list(v.items()),
        "negative.json": lambda v: {**v, tokens[3]: -5},
        "duplicate.json": lambda v: {**v, tokens[3]: v[tokens[4]]},
        "fraction.json": lambda v: {**v, tokens[3]: 2.5},
    }
    messages = {"list.json": "found a JSON list", "negative.json": "has id -5", "duplicate.json": "share id", "fraction.json": "has id 2.5"}
    for name, change in cases.items():
        broken = json.loads(json.dumps(good))
        broken["model"]["vocab"] = change(broken["model"]["vocab"])
        (tmp_path / name).write_text(json.dumps(broken))
        one_line_error(run(main, ["tokenizer", "encode", str(tmp_path / name), str(tmp_path / "h.txt")]), name, messages[name])
    cut_gzip(tmp_path / "in.txt.gz", corpus_text)
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    for broken_input, why in (("in.txt.gz", "truncated"), ("bin.txt", "binary_file")):
        path = str(tmp_path / broken_input)
        one_line_error(run(main, ["tokenizer", "stats", str(tmp_path / "tok.json"), path]), broken_input, why)
        one_line_error(run(main, ["tokenizer", "encode", str(tmp_path / "tok.json"), path]), broken_input, why)
        one_line_error(run(main, ["tokenizer", "train", "--model", "bpe", "--vocab-size", "100", "--no-progress", path, "-o", str(tmp_path / "t.json")]), broken_input, why)


def test_dedup_names_broken_input_and_reports_what_it_skipped(tmp_path):
    run = CliRunner().invoke
    path = tmp_path / "d.jsonl"
    with open(path, "w") as handle:
        for i in range(20):
            handle.write(json.dumps({"id": str(i), "text": f"unique document number {i} " * 6}) + "\n")
        handle.write("{broken json\n")
    one_line_error(run(main, ["dedup", str(path), "-o", str(tmp_path / "a"), "--no-progress"]), "d.jsonl:21", "malformed_json")
    result = run(main, ["dedup", str(path), "-o", str(tmp_path / "b"), "--no-progress", "--on-error", "skip"])
    assert result.exit_code == 0, result.output
    assert "skipped 1 record(s), read: malformed_json; first: " in result.output and "d.jsonl:21" in result.output
