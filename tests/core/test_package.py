"""The installed layout: plugin folders import as corpuskit.<name>, HF's tokenizers still imports."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import corpuskit
from corpuskit.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_plugin_packages_import_under_corpuskit():
    import corpuskit.embeddings
    import corpuskit.gpu
    import corpuskit.lm
    import corpuskit.tokenizers

    assert Path(corpuskit.tokenizers.__file__).parent == REPO / "tokenizers"
    assert Path(corpuskit.lm.__file__).parent == REPO / "lm"
    assert Path(corpuskit.embeddings.__file__).parent == REPO / "embeddings"
    assert Path(corpuskit.gpu.__file__).parent == REPO / "gpu"


def test_hugging_face_tokenizers_is_not_shadowed(tmp_path):
    import tokenizers

    assert hasattr(tokenizers, "Tokenizer")  # HF's package, not our folder
    assert Path(tokenizers.__file__).parent != REPO / "tokenizers"
    # Also in a fresh interpreter where both are imported, as a user's script would.
    code = "import corpuskit.tokenizers, tokenizers; print(tokenizers.__file__); print(tokenizers.Tokenizer)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "site-packages" in out.stdout.splitlines()[0]


def test_version_and_help():
    runner = CliRunner()
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and corpuskit.__version__ in result.output
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("pipeline", "plugins", "quickstart"):
        assert command in result.output


@pytest.mark.parametrize(
    "args",
    [["pipeline", "run"], ["pipeline", "report"], ["pipeline", "validate"], ["plugins", "list"], ["quickstart"], ["dedup"], ["train"]],
)
def test_every_core_leaf_command_has_an_example_in_its_help(args):
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and f"corpuskit {' '.join(args)}" in result.output


def test_import_is_light():
    code = "import sys, corpuskit.cli; heavy = [m for m in ('numba', 'pyarrow', 'datasets', 'gensim', 'fastwarc') if m in sys.modules]; print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
