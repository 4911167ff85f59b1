"""`corpuskit tokenizer` commands and the quickstart stage, end to end on tiny inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from corpuskit.tokenizers.cli import tokenizer


def test_train_encode_decode_stats(train_lines: list[str], heldout_lines: list[str], tmp_path: Path) -> None:
    corpus = tmp_path / "train.txt"
    corpus.write_text("\n".join(train_lines) + "\n")
    held = tmp_path / "held.txt"
    held.write_text("\n".join(heldout_lines[:20]) + "\n")
    out = tmp_path / "tok.json"
    runner = CliRunner()
    result = runner.invoke(tokenizer, ["train", "--model", "byte-bpe", "--vocab-size", "500", "--special-tokens", "<s>,</s>", "--no-progress", str(corpus), "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["model"]["type"] == "BPE" and [t["content"] for t in data["added_tokens"]] == ["<s>", "</s>"]

    encoded = runner.invoke(tokenizer, ["encode", str(out), str(held)])
    assert encoded.exit_code == 0, encoded.output
    id_lines = encoded.output.splitlines()
    assert len(id_lines) == 20
    decoded = runner.invoke(tokenizer, ["decode", str(out)], input=encoded.output)
    assert decoded.exit_code == 0
    assert decoded.output.splitlines() == heldout_lines[:20]

    tokens = runner.invoke(tokenizer, ["encode", str(out), "--tokens"], input="Hello world\n")
    assert "".join(tokens.output.split()).replace("Ġ", " ") == "Hello world"

    stats = runner.invoke(tokenizer, ["stats", str(out), str(held)])
    assert stats.exit_code == 0, stats.output
    table = dict(line.split("\t") for line in stats.output.splitlines())
    assert int(table["vocab_size"]) == 500 and float(table["bytes_per_token"]) > 1.5
    assert float(table["unknown_share"]) == 0.0


def test_train_every_model_and_lowercase(train_lines: list[str], tmp_path: Path) -> None:
    corpus = tmp_path / "train.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in train_lines))
    runner = CliRunner()
    for model, size in [("bpe", 400), ("wordpiece", 500), ("unigram", 700)]:
        out = tmp_path / f"{model}.json"
        result = runner.invoke(tokenizer, ["train", "--model", model, "--vocab-size", str(size), "--lowercase", "--no-progress", str(corpus), "-o", str(out)])
        assert result.exit_code == 0, result.output
        stats = runner.invoke(tokenizer, ["stats", str(out), str(corpus)])
        table = dict(line.split("\t") for line in stats.output.splitlines())
        assert int(table["vocab_size"]) == size
        assert float(table["unknown_share"]) < 0.01


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = runner.invoke(tokenizer, ["train", "--vocab-size", "300", "--no-progress", str(empty), "-o", str(tmp_path / "t.json")])
    assert result.exit_code != 0 and "no training text" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = runner.invoke(tokenizer, ["encode", str(bad)], input="x\n")
    assert result.exit_code != 0 and "bad.json: expected a tokenizer.json, found malformed JSON at line 1" in result.output
    small = tmp_path / "small.txt"
    small.write_text("hello\n")
    tok = tmp_path / "tok.json"
    assert runner.invoke(tokenizer, ["train", "--vocab-size", "260", "--no-progress", str(small), "-o", str(tok)]).exit_code == 0
    result = runner.invoke(tokenizer, ["decode", str(tok)], input="1 2 x\n")
    assert result.exit_code != 0 and "-:1:" in result.output


def test_cli_module_imports_cheaply() -> None:
    code = "import sys, corpuskit.tokenizers.cli; heavy = [m for m in ('numba', 'numpy', 'tokenizers', 'regex') if m in sys.modules]; print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True).stdout.strip()
    assert out == "[]"


def test_quickstart_stage(train_lines: list[str], tmp_path: Path) -> None:
    from corpuskit.document import Document
    from corpuskit.quickstart.context import QuickstartContext
    from corpuskit.tokenizers.quickstart import stage
    from corpuskit.writers import write_manifest
    from corpuskit.writers.jsonl import JsonlWriter

    corpus = tmp_path / "run"
    files = JsonlWriter(compression="gz").write_all((Document(str(i), t, {}) for i, t in enumerate(train_lines)), corpus, "part")
    write_manifest(corpus, files)
    lines: list[str] = []
    stage(QuickstartContext(directory=tmp_path / "qs", corpus=corpus, workers=1, echo=lines.append))
    assert (tmp_path / "qs" / "tokenizer" / "tokenizer.json").is_file()
    assert any("bytes/token" in line for line in lines)


def test_unigram_character_coverage_option(train_lines: list[str], tmp_path: Path) -> None:
    corpus = tmp_path / "train.txt"
    corpus.write_text("\n".join(train_lines) + "\n")
    runner = CliRunner()
    shares = {}
    for coverage in ("0.99", "1.0"):
        out = tmp_path / f"u{coverage}.json"
        result = runner.invoke(tokenizer, ["train", "--model", "unigram", "--vocab-size", "700", "--character-coverage", coverage, "--no-progress", str(corpus), "-o", str(out)])
        assert result.exit_code == 0, result.output
        stats = runner.invoke(tokenizer, ["stats", str(out), str(corpus)])
        shares[coverage] = float(dict(line.split("\t") for line in stats.output.splitlines())["unknown_share"])
    assert shares["1.0"] == 0.0 < shares["0.99"] < 0.05
    result = runner.invoke(tokenizer, ["train", "--model", "bpe", "--character-coverage", "0.9", str(corpus), "-o", str(tmp_path / "b.json")])
    assert result.exit_code != 0 and "--character-coverage does not apply to --model bpe" in result.output


def test_bpe_through_corpuskit_train(train_lines: list[str], tmp_path: Path) -> None:
    """The generic `corpuskit train bpe` builds its flags from BPEConfig and writes the API's exact file."""
    from corpuskit.cli import main
    from corpuskit.tokenizers.tokenizer import Tokenizer
    from corpuskit.tokenizers.trainers import BPETrainer

    corpus = tmp_path / "train.txt"
    corpus.write_text("\n".join(train_lines[:80]) + "\n")
    out = tmp_path / "tok.json"
    runner = CliRunner()
    result = runner.invoke(main, ["train", "bpe", "--vocab-size", "300", "--special-tokens", "<s>,</s>", "--pre-tokenizer", "metaspace", "--lowercase", str(corpus), "-o", str(out)])
    assert result.exit_code == 0, result.output
    tok = Tokenizer.load(out)
    assert tok.vocab_size == 300 and [t.content for t in tok.added_tokens] == ["[UNK]", "<s>", "</s>"]
    BPETrainer(vocab_size=300, special_tokens=["<s>", "</s>"], pre_tokenizer="metaspace", lowercase=True).train_files(str(corpus)).save(tmp_path / "api.json")
    assert out.read_bytes() == (tmp_path / "api.json").read_bytes()
    result = runner.invoke(main, ["train", "bpe", "--character-coverage", "0.9", str(corpus), "-o", str(out)])
    assert result.exit_code == 2 and "--character-coverage is not an option of trainer 'bpe'" in result.output
