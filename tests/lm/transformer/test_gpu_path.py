"""The GPU path's code (`GpuOps`: corpuskit.gpu kernels + xp expressions) run on the CPU.

`xp = numpy` and `corpuskit.gpu.ops` on backend "emulate" (the kernels' own CUDA source compiled
with g++), for a two-layer GQA model whose T is not a multiple of any attention tile: logits, loss
and every parameter gradient must match the CPU paths on the same weights. Only the hardware
itself waits for a GPU.

Tolerance (fp32 kernels against the float64 reference and the fp32 numba path): logits and loss
within 2e-5 absolute (they are O(1)), each parameter gradient within 1e-4 relative L2 error
(‖g − g_ref‖ / ‖g_ref‖): fp32 rounding over a few hundred accumulations, nothing more.
"""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.lm.transformer.model import TransformerConfig, TransformerLM


@pytest.fixture(scope="module")
def emulator() -> None:
    from corpuskit.gpu.emulate.build import find_compiler, find_cuda_include

    if find_compiler() is None:
        pytest.skip("no g++: the CUDA emulator needs a C++20 compiler")
    if find_cuda_include() is None:
        pytest.skip("no CUDA headers (cuda_bf16.h): set CORPUSKIT_CUDA_INCLUDE")


CFG = dict(vocab_size=61, n_layer=2, n_embd=64, n_head=2, n_kv_head=1, block_size=32, ffn_hidden=96)  # D = 32, GQA 2:1
B, T = 2, 13  # 13: no attention tile divides it (boundary tiles in every kernel)


def _model(ops: str, dtype=np.float32) -> TransformerLM:
    model = TransformerLM(TransformerConfig(**CFG), seed=3, dtype=dtype, ops=ops)
    rng = np.random.default_rng(7)  # norm weights off 1 so their gradients and the kernels' use of them matter
    for name, view in model.params.p.items():
        if name.endswith(".w"):
            view[...] = model.xp.asarray(rng.uniform(0.5, 1.5, size=view.shape))
    return model


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    ids = rng.integers(0, CFG["vocab_size"], size=(B, T))
    targets = rng.integers(0, CFG["vocab_size"], size=(B, T))
    targets[1, 4] = -100  # an ignored target: the count and the scaling follow it
    return ids, targets


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / max(np.linalg.norm(b), 1e-30))


@pytest.mark.parametrize("anchor", ["reference", "numba"])
def test_gpu_path_matches_cpu_path_two_layers(emulator: None, anchor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from corpuskit.lm.transformer import model as model_module

    monkeypatch.setattr(model_module, "HEAD_CHUNK", 7 * CFG["vocab_size"])  # head + loss in chunks of 7 rows: per-chunk scaling
    gpu = _model("gpu-emulate")
    assert gpu.xp is np and gpu.ops.backend == "emulate"
    want = _model(anchor, np.float64 if anchor == "reference" else np.float32)
    want.params.data[...] = gpu.params.data  # the very same weights
    ids, targets = _batch()

    np.testing.assert_allclose(gpu.logits(ids), want.logits(ids), atol=2e-5, rtol=0)
    loss = gpu.forward_backward(ids, targets)
    want_loss = want.forward_backward(ids, targets)
    assert abs(loss - want_loss) < 2e-5, (loss, want_loss)
    assert np.all(np.isfinite(gpu.params.grad))
    for name in gpu.params.g:
        err = _rel(gpu.params.g[name], want.params.g[name])
        assert err < 1e-4, f"{name}: relative gradient error {err:.2e} against the {anchor} path"


def test_gpu_path_decoding_with_padding_matches(emulator: None) -> None:
    """start() with left-padded prompts (key padding mask) and step() (one query against the cache: Tq < Tk)."""
    gpu, want = _model("gpu-emulate"), _model("reference", np.float64)
    want.params.data[...] = gpu.params.data
    prompts = [[5, 9, 2, 40, 7], [3, 17]]
    lp, state = gpu.start(prompts)
    lp_ref, state_ref = want.start(prompts)
    np.testing.assert_allclose(lp, lp_ref, atol=2e-5, rtol=0)
    nxt = np.array([1, 60])
    np.testing.assert_allclose(gpu.step(state, nxt)[0], want.step(state_ref, nxt)[0], atol=2e-5, rtol=0)
    state, state_ref = gpu.reorder(state, np.array([1, 1])), want.reorder(state_ref, np.array([1, 1]))  # beam search
    state.reserve(200)  # the cache grows (xp arrays) past its first capacity
    nxt = np.array([8, 9])
    lp = gpu.step(state, nxt)[0]
    np.testing.assert_allclose(lp, want.step(state_ref, nxt)[0], atol=2e-5, rtol=0)
    assert state.k[0].shape[1] >= 200 and isinstance(lp, np.ndarray)


def test_gpu_ops_xp_layers_and_adamw_match_reference() -> None:
    """The layers the GPU path computes with xp expressions (no kernels) against the reference ops."""
    from corpuskit.lm.transformer.gpu_ops import GpuOps
    from corpuskit.lm.transformer.ops import ReferenceOps

    ops, ref = GpuOps("emulate"), ReferenceOps()
    rng = np.random.default_rng(0)
    gu = rng.normal(size=(7, 10)).astype(np.float32)
    ds = rng.normal(size=(7, 5)).astype(np.float32)
    np.testing.assert_allclose(ops.swiglu_forward(gu), ref.swiglu_forward(gu), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ops.swiglu_backward(gu, ds), ref.swiglu_backward(gu, ds), rtol=1e-6, atol=1e-6)
    x = rng.normal(size=(2, 5, 3, 8)).astype(np.float32)
    pos = np.array([[0, 1, 2, 3, 4], [9, 3, 3, 0, 1]])
    from corpuskit.lm.transformer.reference import rope_tables

    cos, sin = rope_tables(10, 8, 10000.0)
    for inverse in (False, True):
        np.testing.assert_allclose(ops.rope(x, pos, cos, sin, inverse), ref.rope(x, pos, cos, sin, inverse), rtol=1e-6, atol=1e-6)
    logits = rng.normal(size=(4, 9)).astype(np.float32) * 30
    np.testing.assert_allclose(ops.log_softmax(logits), ref.log_softmax(logits), rtol=1e-12, atol=1e-12)
    ids = np.array([3, 1, 3, 0])
    d1, d2 = np.zeros((5, 6), np.float32), np.zeros((5, 6), np.float32)
    dx = rng.normal(size=(4, 6)).astype(np.float32)
    ops.embedding_backward(ids, dx, d1)
    ref.embedding_backward(ids, dx, d2)
    np.testing.assert_array_equal(d1, d2)
    p0, g = rng.normal(size=50).astype(np.float32), rng.normal(size=50).astype(np.float32)
    state = [(p0.copy(), np.zeros(50, np.float32), np.zeros(50, np.float32)) for _ in range(2)]
    for step in (1, 2, 3):
        ops.adamw_step(state[0][0], g, state[0][1], state[0][2], 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
        ref.adamw_step(state[1][0], g, state[1][1], state[1][2], 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
    for a, b in zip(state[0], state[1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert ops.sum_squares(g) == pytest.approx(float(np.dot(g.astype(np.float64), g)), rel=1e-12)


def test_gpu_ops_without_cupy_or_with_a_bad_backend_says_why() -> None:
    from corpuskit.lm.transformer.gpu_ops import GpuOps

    with pytest.raises(ValueError, match="'cupy' or 'emulate'"):
        GpuOps("metal")
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="need CuPy"):
            GpuOps("cupy")


def test_gpu_path_training_steps_match_reference(emulator: None) -> None:
    """Three AdamW steps (clipping on) through GpuOps' optimizer and state: the same weights as the reference path."""
    from corpuskit.lm.transformer.optim import AdamW

    gpu, want = _model("gpu-emulate"), _model("reference")
    want.params.data[...] = gpu.params.data
    ids, targets = _batch()
    losses = []
    for model in (gpu, want):
        opt = AdamW(model.params, model.ops, weight_decay=0.1)
        run = []
        for _ in range(3):
            model.params.grad[:] = 0
            run.append(model.forward_backward(ids, targets))
            opt.clip(0.5)
            opt.step(1e-2)
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], atol=2e-5, rtol=0)
    assert losses[0][2] < losses[0][0]  # it learns
    assert _rel(gpu.params.data, want.params.data.astype(np.float64)) < 1e-5


def test_device_gpu_is_refused_with_the_reason_without_cupy() -> None:
    from corpuskit.lm.transformer.train import gpu_unavailable, resolve_device

    reason = gpu_unavailable()
    if reason is None:
        assert resolve_device("gpu") == "gpu"
    else:
        with pytest.raises(ValueError, match="--device gpu: .*(CuPy|CUDA)"):
            resolve_device("gpu")
    assert resolve_device("auto") == "cpu"


# -- on a GPU (make gpu-check): the same comparisons with xp = cupy and the CUDA kernels ---------------------
def _cuda_devices() -> int:
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # no CuPy, no driver, or a driver older than CuPy's CUDA runtime
        return 0


needs_cuda = pytest.mark.skipif(_cuda_devices() == 0, reason="needs CuPy and a CUDA device (make gpu-check)")


@pytest.mark.cuda
@needs_cuda
def test_gpu_path_on_the_device_matches_reference() -> None:
    gpu = _model("gpu")
    assert gpu.xp is not np
    want = _model("reference", np.float64)
    want.params.data[...] = gpu._host(gpu.params.data)
    ids, targets = _batch()
    np.testing.assert_allclose(gpu.logits(ids), want.logits(ids), atol=2e-5, rtol=0)
    loss, want_loss = gpu.forward_backward(ids, targets), want.forward_backward(ids, targets)
    assert abs(loss - want_loss) < 2e-5, (loss, want_loss)
    for name in gpu.params.g:
        err = _rel(gpu._host(gpu.params.g[name]), want.params.g[name])
        assert err < 1e-4, f"{name}: relative gradient error {err:.2e} on the device"


@pytest.mark.cuda
@needs_cuda
def test_train_device_gpu_first_losses_match_the_cpu(data_dir, tmp_path) -> None:  # noqa: ANN001
    """The training smoke test: `--device gpu` trains, checkpoints and its first losses follow the CPU run's."""
    import json

    from corpuskit.lm.transformer.checkpoint import write_json
    from corpuskit.lm.transformer.train import TrainConfig, train

    vocab = json.loads((data_dir / "manifest.json").read_text())["vocab_size"]
    config = tmp_path / "model.json"
    write_json(config, {**CFG, "vocab_size": vocab})
    runs, weights = {}, {}
    for device in ("cpu", "gpu"):
        out = tmp_path / device
        train(TrainConfig(data=str(data_dir), out=str(out), config=str(config), device=device, max_steps=4, batch_size=2,
                          seq_len=24, warmup_steps=1, eval_every=4, checkpoint_every=4, progress=False))
        lines = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines() if line]
        runs[device] = [r["loss"] for r in lines if "loss" in r]
        weights[device] = TransformerLM.load(out).params.data.copy()  # the checkpoint, written from host copies
    np.testing.assert_allclose(runs["gpu"], runs["cpu"], rtol=1e-3)
    assert _rel(weights["gpu"], weights["cpu"].astype(np.float64)) < 1e-3
