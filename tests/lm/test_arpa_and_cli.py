"""ARPA reading and its errors, the `corpuskit lm` commands, the perplexity step and the quickstart stage."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpuskit.document import CorpusError, Document, Drop
from corpuskit.lm.cli import lm
from corpuskit.lm.ngram import NGramModel, NGramTrainer

SMALL_ARPA = """\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.5
-0.7\t</s>\t0
-0.6\ta\t-0.3
-0.9\tb\t-0.2

\\2-grams:
-0.2\t<s> a
-0.4\ta b
-0.1\tb </s>

\\end\\
"""


def test_reading_a_hand_written_arpa(tmp_path) -> None:
    (tmp_path / "s.arpa").write_text(SMALL_ARPA)
    model = NGramModel.load(tmp_path / "s.arpa")
    assert model.counts() == [5, 3]
    # <s> a: -0.2; a b: -0.4; b </s>: -0.1
    assert model.score("a b") == pytest.approx(-0.7)
    # <s> b: backoff(<s>) + p(b) = -0.5 - 0.9; b a: -0.2 - 0.6; a </s>: -0.3 - 0.7
    assert model.score("b a") == pytest.approx(-1.4 - 0.8 - 1.0)
    assert model.score("zzz", bos=False, eos=False) == pytest.approx(-1.0)


@pytest.mark.parametrize("broken,message", [
    (SMALL_ARPA.replace("ngram 2=3", "ngram 2=4"), r"s\.arpa:\d+: .*ngram 2=4 but the \\2-grams: section has 3"),
    (SMALL_ARPA.replace("-0.4\ta b", "minus\ta b"), r"s\.arpa:14: expected numbers"),
    (SMALL_ARPA.replace("-0.4\ta b", "-0.4\ta b c d"), r"s\.arpa:14: expected 2 words"),
    (SMALL_ARPA.replace("-0.4\ta b", "-0.4\ta zz"), r"s\.arpa:14: word 'zz' is not among the unigrams"),
    (SMALL_ARPA.replace("\\end\\\n", ""), r"ends before \\end\\"),
    ("hello\n", r"no \\data\\ section"),
])
def test_malformed_arpa_names_file_and_line(tmp_path, broken, message) -> None:
    (tmp_path / "s.arpa").write_text(broken)
    with pytest.raises(CorpusError, match=message):
        NGramModel.load(tmp_path / "s.arpa")


def test_arpa_round_trip_keeps_every_ngram(train_sentences, tmp_path) -> None:
    model = NGramTrainer(order=3, smoothing="kn").train(train_sentences)
    model.save(tmp_path / "m.arpa.gz")
    again = NGramModel.load(tmp_path / "m.arpa.gz")
    assert again.counts() == model.counts() and again.words == model.words
    for k in (1, 2, 3):
        a = {g: (p, b) for g, p, b in model.ngrams(k)}
        b = {g: (p, b) for g, p, b in again.ngrams(k)}
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a[g] for g in a], [b[g] for g in a], atol=1e-6)


@pytest.fixture()
def corpus_file(tmp_path, train_sentences):
    path = tmp_path / "train.txt"
    path.write_text("\n".join(train_sentences) + "\n")
    return path


def test_cli_train_perplexity_score_generate(tmp_path, corpus_file, test_sentences) -> None:
    runner = CliRunner()
    model_path = tmp_path / "m.arpa"
    result = runner.invoke(lm, ["ngram", "train", "--order", "3", "--prune", "0 0 1", str(corpus_file), "-o", str(model_path)])
    assert result.exit_code == 0, result.output
    model = NGramModel.load(model_path)
    assert model.meta.get("source") == "m.arpa" and model.order == 3
    held = tmp_path / "held.txt"
    held.write_text("\n".join(test_sentences[:10]) + "\n")
    result = runner.invoke(lm, ["ngram", "perplexity", str(model_path), str(held)])
    assert result.exit_code == 0, result.output
    values = dict(line.split("\t") for line in result.output.strip().splitlines())
    assert float(values["perplexity"]) == pytest.approx(model.evaluate(test_sentences[:10]).perplexity, rel=1e-4)
    result = runner.invoke(lm, ["score", str(model_path), str(held)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip("\n").split("\n")
    assert len(lines) == 10
    np.testing.assert_allclose([float(x.split("\t")[0]) for x in lines], model.score_batch(test_sentences[:10]), atol=1e-3)
    outputs = set()
    for strategy in ("greedy", "beam", "top-k", "top-p", "typical"):
        result = runner.invoke(lm, ["ngram", "generate", str(model_path), "--prompt", "w0", "--strategy", strategy, "--max-tokens", "8"])
        assert result.exit_code == 0, result.output
        words = result.output.split()
        assert words[0] == "w0" and 1 < len(words) <= 9 and all(w.startswith("w") for w in words)
        outputs.add(result.output)
    assert len(outputs) > 1
    result = runner.invoke(lm, ["ngram", "generate", str(model_path), "--prompt", "w0", "-n", "4", "--strategy", "sample",
                                "--repetition-penalty", "1.5", "--max-tokens", "8"])
    assert result.exit_code == 0, result.output
    samples = result.output.strip().split("\n")
    assert len(samples) == 4 and len(set(samples)) > 1 and all(s.startswith("w0") for s in samples)


def test_cli_reports_bad_arguments(corpus_file, tmp_path) -> None:
    result = CliRunner().invoke(lm, ["ngram", "train", "--prune", "0 x", str(corpus_file), "-o", str(tmp_path / "m.arpa")])
    assert result.exit_code != 0 and "--prune" in result.output


def test_perplexity_filter_step(train_sentences, tmp_path) -> None:
    from corpuskit.lm.ngram.filter import PerplexityFilter

    NGramTrainer(order=3).train(train_sentences).save(tmp_path / "m.npz")
    step = PerplexityFilter(model=str(tmp_path / "m.npz"), max_perplexity=500.0)
    good = Document("1", "\n".join(train_sentences[:5]))
    bad = Document("2", "zz yy xx qq\nnothing known here")
    assert step.process(good) is good and good.metadata["perplexity"] < 500
    verdict = step.process(bad)
    assert isinstance(verdict, Drop) and verdict.reason == "perplexity_too_high" and bad.metadata["perplexity"] > 500
    assert step.process(Document("3", "  \n")) == Drop("perplexity_no_words")


def test_quickstart_stage(tmp_path, train_sentences) -> None:
    from corpuskit.lm.quickstart import stage
    from corpuskit.quickstart.context import QuickstartContext

    corpus = tmp_path / "clean"
    corpus.mkdir()
    docs = ["\n".join(train_sentences[i : i + 4]) for i in range(0, len(train_sentences), 4)]
    (corpus / "part.jsonl").write_text("".join(json.dumps({"id": str(i), "text": d}) + "\n" for i, d in enumerate(docs)))
    (corpus / "manifest.json").write_text(json.dumps({"files": [{"path": "part.jsonl"}]}))
    said: list[str] = []
    stage(QuickstartContext(directory=tmp_path / "qs", corpus=corpus, workers=1, echo=said.append))
    assert (tmp_path / "qs" / "ngram" / "model.arpa").is_file()
    assert any("perplexity" in line for line in said) and any("sample" in line for line in said)


def test_cli_bad_model_file_is_a_message_not_a_traceback(tmp_path, corpus_file) -> None:
    (tmp_path / "bad.arpa").write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<unk>\n\n\\end\\\n")
    result = CliRunner().invoke(lm, ["ngram", "perplexity", str(tmp_path / "bad.arpa"), str(corpus_file)])
    assert result.exit_code == 1 and "bad.arpa:" in result.output and "ngram 1=2" in result.output
    result = CliRunner().invoke(lm, ["score", str(tmp_path / "missing.arpa"), str(corpus_file)])
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.mark.parametrize("suffix", [".arpa", ".arpa.gz"])
def test_fast_arpa_reader_matches_line_reader(train_sentences, tmp_path, suffix) -> None:
    from corpuskit.lm.ngram.arpa import _read_arpa_fast, read_arpa_lines

    NGramTrainer(order=4, discount_fallback=True, prune=[0, 0, 1, 1]).train(train_sentences).save(tmp_path / f"m{suffix}")
    fast = _read_arpa_fast(str(tmp_path / f"m{suffix}"))
    slow = read_arpa_lines(tmp_path / f"m{suffix}")
    assert fast is not None and fast.words == slow.words and fast.counts() == slow.counts()
    for name in ("parent", "word", "prob", "backoff", "offsets"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


def test_srilm_style_arpa_without_zero_backoffs_or_unk(tmp_path) -> None:
    text = SMALL_ARPA.replace("ngram 1=5", "ngram 1=4").replace("-1.0\t<unk>\t0\n", "").replace("-0.7\t</s>\t0", "-0.7\t</s>")
    (tmp_path / "sri.arpa").write_text(text)
    model = NGramModel.load(tmp_path / "sri.arpa")
    assert model.counts() == [5, 3] and model.words[:3] == ["<unk>", "<s>", "</s>"]
    assert model.score("a b") == pytest.approx(-0.7)
    assert model.score("zzz", bos=False, eos=False) == pytest.approx(-99.0)  # closed vocabulary: <unk> has p = 0
