"""The `quality_classifier` step and the `corpuskit classifier` commands on a generated two-class corpus."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpuskit import registry
from corpuskit.document import Document, Drop
from corpuskit.embeddings.classifier_cli import classifier
from corpuskit.embeddings.classifier_step import QualityClassifier, as_line


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """Positives (JSONL) and negatives (plain text) sharing filler words, differing in a few cue words."""
    root = tmp_path_factory.mktemp("classifier")
    rng = np.random.default_rng(0)
    filler = [f"w{i}" for i in range(300)]

    def doc(cue: str) -> str:
        words = list(rng.choice(filler, 20)) + [f"{cue}{j}" for j in rng.integers(0, 30, 3)]
        rng.shuffle(words)
        return " ".join(words[:10]) + "\n\n" + " ".join(words[10:])  # two paragraphs: one example

    (root / "pos").mkdir()
    with open(root / "pos" / "docs.jsonl", "w") as handle:
        for i in range(300):
            handle.write(json.dumps({"id": str(i), "text": doc("article")}) + "\n")
    (root / "neg.txt").write_text("\n".join(doc("click").replace("\n\n", " ") for _ in range(300)) + "\n")
    return root


@pytest.fixture(scope="module")
def model_path(corpora):
    out = corpora / "quality.bin"
    result = CliRunner().invoke(classifier, ["train", "--positive", str(corpora / "pos"), "--negative", str(corpora / "neg.txt"), "-o", str(out),
                                             "--dim", "16", "--bucket", "20000", "--min-count", "1", "--lr", "0.5", "--epoch", "8"])
    assert result.exit_code == 0, result.output
    assert "epoch 8: loss" in result.output
    return out


def test_as_line_joins_whitespace():
    assert as_line(" a\n\nb\tc  ") == "a b c"


def test_step_is_registered_and_keeps_positives(model_path):
    step_class = registry.load("steps", "quality_classifier")
    assert step_class is QualityClassifier
    step = step_class(model=str(model_path), label="positive", threshold=0.5)
    good = Document(id="g", text="w1 article3 w2\n\narticle7 w9 w11")
    bad = Document(id="b", text="w1 click3 w2 click7 w9 w11")
    assert step.process(good) is good and good.metadata["quality_score"] > 0.5
    dropped = step.process(bad)
    assert isinstance(dropped, Drop) and dropped.reason == "quality_below_threshold"
    assert bad.metadata["quality_score"] < 0.5
    assert isinstance(step.process(Document(id="e", text=" \n ")), Drop)
    assert step.score(good.text) == pytest.approx(good.metadata["quality_score"], abs=1e-5)


def test_step_errors_name_the_problem(model_path):
    with pytest.raises(ValueError, match="model"):
        QualityClassifier()
    step = QualityClassifier(model=str(model_path), label="nonexistent")
    with pytest.raises(ValueError, match="no label '__label__nonexistent'"):
        step.process(Document(id="x", text="w1"))


def test_quantize_and_predict_commands(model_path, corpora):
    small = corpora / "quality.ftz"
    result = CliRunner().invoke(classifier, ["quantize", str(model_path), "-o", str(small), "--cutoff", "2000"])
    assert result.exit_code == 0, result.output
    assert small.stat().st_size * 10 <= model_path.stat().st_size
    result = CliRunner().invoke(classifier, ["predict", str(small), "w1 article3 article5 w7", "click1 click9 w2", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["labels"][0] for row in rows] == ["__label__positive", "__label__negative"]


def test_train_refuses_equal_labels(corpora, tmp_path):
    result = CliRunner().invoke(classifier, ["train", "--positive", str(corpora / "pos"), "--negative", str(corpora / "neg.txt"), "-o", str(tmp_path / "m.bin"),
                                             "--positive-label", "x", "--negative-label", "x"])
    assert result.exit_code == 2 and "must differ" in result.output


def test_generic_trainer_cli_counts_files_in_parallel(tmp_path):
    from corpuskit.embeddings.supervised import SupervisedModel
    from corpuskit.train_cli import train

    rng = np.random.default_rng(1)
    for name in ("a.txt", "b.txt"):
        lines = [f"__label__{'x' if i % 2 else 'y'} " + " ".join(rng.choice(["p", "q", "r"], 4)) + (" ex" if i % 2 else " why") for i in range(100)]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(train, ["fasttext-supervised", "--dim", "8", "--word-ngrams", "2", "--bucket", "500", "--lr", "0.5", "--workers", "2",
                                        str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "-o", str(tmp_path / "m.bin")])
    assert result.exit_code == 0, result.output
    model = SupervisedModel.load(tmp_path / "m.bin")
    assert sorted(model.labels) == ["__label__x", "__label__y"]
    assert model.predict("p q ex")[0][0] == "__label__x"


def test_step_in_a_pipeline_run_with_two_workers(model_path, corpora, tmp_path):
    from corpuskit.pipeline import load_config, run_pipeline
    from corpuskit.readers import read_corpus

    (tmp_path / "neg.jsonl").write_text("".join(json.dumps({"id": f"n{i}", "text": line}) + "\n" for i, line in enumerate((corpora / "neg.txt").read_text().splitlines())))
    config = tmp_path / "p.yaml"
    config.write_text(
        f"inputs:\n  paths: [{corpora / 'pos' / 'docs.jsonl'}, {tmp_path / 'neg.jsonl'}]\n"
        f"steps:\n  - quality_classifier: {{model: {model_path}, label: positive, threshold: 0.5}}\n"
        f"output:\n  dir: {tmp_path / 'out'}\nexecutor:\n  workers: 2\n"
    )
    summary = run_pipeline(load_config(config))
    docs = summary["documents"]
    assert docs["input"] == 600 and docs["errored"] == 0
    assert summary["dropped"]["quality_classifier: quality_below_threshold"] == docs["dropped"]
    kept = list(read_corpus(str(tmp_path / "out")))
    positives = sum(1 for doc in kept if not doc.id.startswith("n"))
    assert positives >= 0.9 * len(kept) and len(kept) >= 270  # keeps the positives, drops the negatives
    assert all(doc.metadata["quality_score"] >= 0.5 for doc in kept)
