"""corpuskit.lm.transformer: a small Llama-family LM with our own forward and backward.

    from corpuskit.lm.transformer import TransformerLM, TransformerConfig
    model = TransformerLM(TransformerConfig.preset("tiny", vocab_size=8192))
    model = TransformerLM.load("runs/tiny")              # our run folder (latest checkpoint)
    model = TransformerLM.from_pretrained("hf-llama/")   # a local LlamaForCausalLM folder
    logits = model.logits(ids)                           # (B, T, V) float32

The CPU path is NumPy matmuls plus numba kernels (`kernels.py`); `ops.py` is the seam where the
GPU kernels plug in. Training: `train.py`; data shards: `data.py`; Hugging Face interop: `hf.py`.
Names load lazily, so the CLI can mount its commands without importing NumPy.
"""

from typing import Any

_EXPORTS = {
    "PRESETS": "corpuskit.lm.transformer.model",
    "KVCache": "corpuskit.lm.transformer.model",
    "TransformerConfig": "corpuskit.lm.transformer.model",
    "TransformerLM": "corpuskit.lm.transformer.model",
    "TrainConfig": "corpuskit.lm.transformer.train",
    "TransformerTrainer": "corpuskit.lm.transformer.train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'corpuskit.lm.transformer' has no attribute {name!r}")
