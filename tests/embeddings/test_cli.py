"""The `corpuskit embed` commands, the quickstart stage and 2-D projections."""

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from corpuskit.document import Document
from corpuskit.embeddings.cli import embed
from corpuskit.embeddings.evaluate import default_dataset
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.projection import pca_2d, tsne_2d
from corpuskit.quickstart.context import QuickstartContext
from corpuskit.writers import write_manifest
from corpuskit.writers.jsonl import JsonlWriter


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli")
    vectors = directory / "lee.bin"
    result = CliRunner().invoke(
        embed, ["train", str(default_dataset("lee_background.cor")), "-o", str(vectors), "--min-count", "2", "--dim", "24",
                "--epochs", "2", "--workers", "2", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "epoch 2: loss" in result.output
    return vectors


def test_train_writes_vectors_gensim_reads(trained):
    from gensim.models import KeyedVectors as GensimKeyedVectors

    theirs = GensimKeyedVectors.load_word2vec_format(str(trained), binary=True)
    ours = KeyedVectors.load(trained)
    assert ours.vector_size == 24 and theirs.index_to_key == ours.index_to_key
    assert "the" in ours


@pytest.mark.parametrize("model, extra", [("glove", ["--epochs", "2"]), ("fasttext", ["--bucket", "2000", "--epochs", "1", "--arch", "cbow"])])
def test_train_other_models(tmp_path, model, extra):
    out = tmp_path / "v.npz"
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(["the cat sat on the mat", "the dog sat on the log"] * 50))
    result = CliRunner().invoke(embed, ["train", str(text), "-o", str(out), "--model", model, "--min-count", "1", "--dim", "8", "--quiet", *extra])
    assert result.exit_code == 0, result.output
    kv = KeyedVectors.load(out)
    assert set(kv.index_to_key) == {"the", "cat", "sat", "on", "mat", "dog", "log"}
    assert kv.has_subwords == (model == "fasttext")


def test_queries(trained):
    runner = CliRunner()
    result = runner.invoke(embed, ["similar", str(trained), "police", "--topn", "3"])
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 3
    assert "police" not in result.output
    result = runner.invoke(embed, ["analogy", str(trained), "man", "king", "woman", "--topn", "2", "--method", "mul"])
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 2
    result = runner.invoke(embed, ["similar", str(trained), "qwertyuiop"])
    assert result.exit_code != 0 and "'qwertyuiop' is not in the vocabulary" in result.output


def test_evaluate_defaults_to_gensim_sets(trained):
    result = CliRunner().invoke(embed, ["evaluate", str(trained), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["analogies"]["questions"] == 19544 and data["analogies"]["covered"] > 0
    assert set(data["pairs"]) == {"wordsim353.tsv", "simlex999.txt"}
    text = CliRunner().invoke(embed, ["evaluate", str(trained)]).output
    assert "analogies total" in text and "wordsim353.tsv" in text


def test_train_errors_are_clear(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = CliRunner().invoke(embed, ["train", str(empty), "-o", str(tmp_path / "v.npz"), "--quiet"])
    assert result.exit_code != 0 and "empty corpus" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\nword 1 2\n")
    result = CliRunner().invoke(embed, ["similar", str(bad), "word"])
    assert result.exit_code != 0 and "bad.txt:2: expected a word and 3 numbers" in result.output


def test_plot(trained, tmp_path):
    for method in ("pca", "tsne"):
        out = tmp_path / f"{method}.png"
        result = CliRunner().invoke(embed, ["plot", str(trained), "police", "fire", "man", "woman", "-o", str(out), "--method", method])
        assert result.exit_code == 0, result.output
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = CliRunner().invoke(embed, ["plot", str(trained), "police", "qwertyuiop", "-o", str(tmp_path / "x.png")])
    assert result.exit_code != 0 and "qwertyuiop" in result.output


def test_projections_separate_clusters():
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=5, size=(3, 20))
    points = np.vstack([c + rng.normal(scale=0.1, size=(8, 20)) for c in centers])
    labels = np.repeat(np.arange(3), 8)
    for projected in (pca_2d(points), tsne_2d(points, perplexity=5, iterations=300)):
        assert projected.shape == (24, 2)
        nearest = [np.argsort(((projected - p) ** 2).sum(1))[1] for p in projected]
        assert (labels[nearest] == labels).all()
    x = rng.normal(size=(10, 5))
    centered = x - x.mean(0)
    variance = (pca_2d(x) ** 2).sum()
    assert variance == pytest.approx((np.linalg.svd(centered, compute_uv=False)[:2] ** 2).sum())


def test_quickstart_stage(tmp_path):
    from corpuskit.embeddings.quickstart import stage

    texts = default_dataset("lee_background.cor").read_text().splitlines()
    corpus = tmp_path / "corpus"
    files = JsonlWriter(compression="gz").write_all((Document(str(i), t, {}) for i, t in enumerate(texts)), corpus, "part")
    write_manifest(corpus, files)
    lines: list[str] = []
    stage(QuickstartContext(directory=tmp_path / "qs", corpus=corpus, workers=2, echo=lines.append))
    assert (tmp_path / "qs" / "embeddings" / "vectors.npz").exists()
    assert any("nearest to" in line for line in lines)
    assert len(KeyedVectors.load(tmp_path / "qs" / "embeddings" / "vectors.vec")) > 1000


def test_cli_module_imports_cheaply():
    code = "import sys, corpuskit.embeddings.cli; print(any(m in sys.modules for m in ('numba', 'gensim', 'matplotlib', 'scipy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("model, option", [
    ("word2vec", ["--x-max", "5"]),
    ("word2vec", ["--eta", "0.1"]),
    ("word2vec", ["--bucket", "100"]),
    ("fasttext", ["--memory-mb", "64"]),
    ("glove", ["--alpha", "0.1"]),
    ("glove", ["--negative", "3"]),
    ("glove", ["--arch", "cbow"]),
    ("glove", ["--minn", "2"]),
])
def test_an_option_the_model_does_not_use_is_an_error(tmp_path, model, option):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat\n")
    result = CliRunner().invoke(embed, ["train", str(text), "-o", str(tmp_path / "v.npz"), "--model", model, "--quiet", *option])
    assert result.exit_code == 2, result.output
    assert f"{option[0]} is not an option of --model {model}" in result.output
    assert ("learning rate is --eta" in result.output) == (option[0] == "--alpha")
    assert not (tmp_path / "v.npz").exists()


def test_glove_learning_rate_is_eta_and_word2vec_keeps_alpha(tmp_path, monkeypatch):
    from corpuskit.embeddings.glove import GloVeTrainer
    from corpuskit.embeddings.word2vec import Word2VecTrainer

    seen = {}
    for cls in (GloVeTrainer, Word2VecTrainer):
        check = cls.validate_config  # runs once the config is built: record what the CLI asked for
        monkeypatch.setattr(cls, "validate_config", lambda self, _check=check: (seen.setdefault(self.name, self.config), _check(self)))
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(["the cat sat on the mat", "the dog sat on the log"] * 20))
    base = ["train", str(text), "--min-count", "1", "--dim", "4", "--epochs", "1", "--quiet"]
    assert CliRunner().invoke(embed, [*base, "-o", str(tmp_path / "g.npz"), "--model", "glove", "--eta", "0.01"]).exit_code == 0
    assert CliRunner().invoke(embed, [*base, "-o", str(tmp_path / "w.npz"), "--alpha", "0.5"]).exit_code == 0
    assert seen["glove"].eta == 0.01 and seen["glove"].alpha == 0.75  # alpha stays GloVe's weighting exponent
    assert seen["word2vec"].alpha == 0.5 and seen["word2vec"].min_count == 1
