"""prepare → train → eval through the API and the CLI; exact resume after a SIGKILL; the trainer plugin."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from corpuskit import registry
from corpuskit.cli import main
from corpuskit.lm.transformer.checkpoint import write_json
from corpuskit.lm.transformer.data import TokenShards, load_tokenizer, prepare
from corpuskit.lm.transformer.model import TransformerLM
from corpuskit.lm.transformer.optim import lr_at
from corpuskit.lm.transformer.train import TrainConfig, TransformerTrainer, train
from corpuskit.trainer import Trainer

MICRO = {"vocab_size": 300, "n_layer": 1, "n_embd": 32, "n_head": 2, "n_kv_head": 1, "block_size": 32, "ffn_hidden": 64}


def micro_config(tmp_path: Path) -> str:
    path = tmp_path / "micro.json"
    write_json(path, MICRO)
    return str(path)


def test_prepare_writes_documents_with_eos_and_a_manifest(corpus_dir, data_dir) -> None:  # noqa: ANN001
    manifest = json.loads((data_dir / "manifest.json").read_text())
    tok = load_tokenizer(corpus_dir / "tok.json")
    eos = manifest["eos_id"]
    assert manifest["eos_token"] == "<|endoftext|>" and manifest["dtype"] == "uint16"
    lines = [l for f in ("a.txt", "b.txt") for l in (corpus_dir / f).read_text().splitlines()]
    expected = sum(len(tok.encode(l, add_special_tokens=False)) + 1 for l in lines)
    totals = manifest["totals"]
    assert totals["train"]["tokens"] + totals["val"]["tokens"] == expected
    assert totals["train"]["documents"] + totals["val"]["documents"] == len(lines)
    assert 0 < totals["val"]["documents"] < 0.25 * len(lines)
    for shard in manifest["shards"]:
        ids = np.fromfile(data_dir / shard["file"], dtype=np.uint16)
        assert ids.size == shard["tokens"] and int(np.sum(ids == eos)) == shard["documents"]
        assert shard["documents"] == 0 or ids[-1] == eos  # whole documents only
    # the first training document is the first line of a.txt that hashed into train
    first = np.fromfile(data_dir / "train_00000.bin", dtype=np.uint16)
    assert tok.decode(first[: int(np.argmax(first == eos))].tolist()) in lines


def test_prepare_in_parallel_writes_the_same_shards(corpus_dir, data_dir, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "parallel"
    prepare([str(corpus_dir / "a.txt"), str(corpus_dir / "b.txt")], corpus_dir / "tok.json", out, val_fraction=0.1, workers=2)
    for shard in json.loads((data_dir / "manifest.json").read_text())["shards"]:
        assert (out / shard["file"]).read_bytes() == (data_dir / shard["file"]).read_bytes()


def test_prepare_needs_an_eos_token(corpus_dir, tmp_path) -> None:  # noqa: ANN001
    obj = json.loads((corpus_dir / "tok.json").read_text())
    obj["added_tokens"] = []
    (tmp_path / "noeos.json").write_text(json.dumps(obj))
    with pytest.raises(ValueError, match="--eos-token"):
        prepare([str(corpus_dir / "a.txt")], tmp_path / "noeos.json", tmp_path / "d")
    manifest = prepare([str(corpus_dir / "a.txt")], tmp_path / "noeos.json", tmp_path / "d", eos_token=".")
    assert manifest["eos_token"] == "."
    with pytest.raises(ValueError, match="--eos-token 'nope'"):
        prepare([str(corpus_dir / "a.txt")], tmp_path / "noeos.json", tmp_path / "d", eos_token="nope")


def test_windows_and_schedule(data_dir) -> None:  # noqa: ANN001
    shards = TokenShards.open(data_dir, "train")
    x, y = shards.sample(np.random.default_rng(0), 3, 16)
    assert x.shape == y.shape == (3, 16) and np.array_equal(x[:, 1:], y[:, :-1])
    val = TokenShards.open(data_dir, "val")
    assert sum(w[1].size for w in val.windows(16)) == val.tokens - len(val.arrays)
    assert lr_at(0, 1.0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_at(9, 1.0, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_at(100, 1.0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_at(55, 1.0, 10, 100, 0.1) == pytest.approx(0.55)


def test_training_lowers_the_loss_and_writes_the_run(data_dir, tmp_path) -> None:  # noqa: ANN001
    cfg = TrainConfig(data=str(data_dir), out=str(tmp_path / "run"), config=micro_config(tmp_path), max_steps=60, batch_size=8,
                      lr=1e-2, warmup_steps=5, eval_every=30, checkpoint_every=30, grad_accum=2, progress=False)
    train(cfg)
    rows = [json.loads(l) for l in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    vals = [r["val_loss"] for r in rows if "val_loss" in r]
    assert len(losses) == 60 and len(vals) == 2
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 1.0
    assert vals[1] < vals[0] < math.log(300)
    run = tmp_path / "run"
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_0000030", "step_0000060"]
    # the CLI's eval and generate read the run back
    result = CliRunner().invoke(main, ["lm", "transformer", "eval", str(run), "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    ppl = float(result.output.split("perplexity\t")[1].split()[0])
    assert ppl == pytest.approx(math.exp(vals[1]), rel=1e-3)
    assert "bits_per_byte" in result.output
    result = CliRunner().invoke(main, ["lm", "transformer", "generate", str(run), "--prompt", "w1", "--max-tokens", "8", "-n", "2"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 2 and result.output.startswith("w1")


def test_trainer_plugin_is_registered(data_dir, tmp_path) -> None:  # noqa: ANN001
    cls = registry.load("trainers", "transformer")
    assert cls is TransformerTrainer and cls.name == "transformer"
    model = cls(out=str(tmp_path / "run"), config=micro_config(tmp_path), max_steps=2, batch_size=2, progress=False).train(str(data_dir))
    assert model.config.n_embd == 32
    assert isinstance(cls(), Trainer) and cls.counts_class is None and cls.input_kind == "path"


def test_the_generic_train_command_trains_from_a_prepared_folder(data_dir, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "model"
    args = ["train", "transformer", "--config", micro_config(tmp_path), "--max-steps", "2", "--batch-size", "2", "--no-progress", str(data_dir), "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert TransformerLM.load(out).config.n_embd == 32
    result = CliRunner().invoke(main, args[:-2] + [str(data_dir), str(data_dir), "-o", str(out)])
    assert result.exit_code == 2 and "learns from one prepared folder" in result.output


def test_cli_errors_name_the_problem(data_dir, tmp_path) -> None:  # noqa: ANN001
    result = CliRunner().invoke(main, ["lm", "transformer", "train", "--data", str(data_dir), "-o", str(tmp_path / "r"), "--device", "gpu"])
    assert result.exit_code != 0 and "--device gpu" in result.output
    result = CliRunner().invoke(main, ["lm", "transformer", "train", "--data", str(data_dir), "-o", str(tmp_path / "r"), "--resume"])
    assert result.exit_code != 0 and "no checkpoint" in result.output


def _losses(run: Path) -> list[float]:
    return [json.loads(l)["loss"] for l in (run / "history.jsonl").read_text().splitlines() if '"loss"' in l]


def test_resume_after_sigkill_is_bitwise_identical(data_dir, tmp_path) -> None:  # noqa: ANN001
    steps = 120
    config = micro_config(tmp_path)
    args = ["lm", "transformer", "train", "--data", str(data_dir), "--config", config, "--max-steps", str(steps), "--batch-size", "4",
            "--checkpoint-every", "5", "--eval-every", "1000", "--lr", "3e-3", "--no-progress"]
    reference = tmp_path / "reference"
    assert CliRunner().invoke(main, [*args, "-o", str(reference)]).exit_code == 0
    killed = tmp_path / "killed"
    code = "import sys; from corpuskit.cli import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", code, *args, "-o", str(killed)], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        history = killed / "history.jsonl"
        if history.exists() and history.read_text().count("\n") >= 12:
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(_losses(killed))
    assert 12 <= done < steps, f"the run was not killed mid-way ({done} steps)"
    result = CliRunner().invoke(main, [*args, "-o", str(killed), "--resume"])
    assert result.exit_code == 0, result.output
    assert _losses(killed) == _losses(reference)  # bitwise: float equality of every step's loss
