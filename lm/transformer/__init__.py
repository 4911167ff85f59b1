"""corpuskit.lm.transformer: a small Llama-family LM with our own forward and backward.

    from corpuskit.lm.transformer import TransformerLM, TransformerConfig
    model = TransformerLM(TransformerConfig.preset("tiny", vocab_size=8192))
    model = TransformerLM.load("runs/tiny")              # our run folder (latest checkpoint)
    model = TransformerLM.from_pretrained("hf-llama/")   # a local LlamaForCausalLM folder
    logits = model.logits(ids)                           # (B, T, V) float32

The CPU path is NumPy matmuls plus numba kernels (`kernels.py`); `ops.py` is the seam where the
GPU kernels plug in. Training: `train.py`; data shards: `data.py`; Hugging Face interop: `hf.py`.
"""

from corpuskit.lm.transformer.model import PRESETS, KVCache, TransformerConfig, TransformerLM

__all__ = ["PRESETS", "KVCache", "TransformerConfig", "TransformerLM", "TransformerTrainer"]


def __getattr__(name: str):  # noqa: ANN202 - lazy: the trainer pulls in the data and training modules
    if name == "TransformerTrainer":
        from corpuskit.lm.transformer.train import TransformerTrainer

        return TransformerTrainer
    raise AttributeError(name)
