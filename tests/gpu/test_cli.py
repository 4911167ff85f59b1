"""`corpuskit gpu info` runs with or without a GPU and names what it found."""

from __future__ import annotations

from click.testing import CliRunner

from corpuskit.gpu.cli import gpu


def test_gpu_info_without_kernel_table() -> None:
    result = CliRunner().invoke(gpu, ["info", "--no-kernels"])
    assert result.exit_code == 0, result.output
    for label in ("CuPy:", "nvcc:", "emulator:", "emulator cache:", "CuPy compile cache:"):
        assert label in result.output


def test_gpu_command_is_registered() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="corpuskit.commands")}
    assert names.get("gpu") == "corpuskit.gpu.cli:gpu"
