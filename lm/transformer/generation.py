"""Text in, text out: a run folder's model and tokenizer, decoding through `corpuskit.lm.decoding`.

The model itself implements the LanguageModel protocol (start/step/reorder over its KV cache), so
every strategy `corpuskit.lm.decoding` has (greedy, beam, sampling cuts, penalties) runs batched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from corpuskit.lm.transformer.checkpoint import read_json, resolve_model_dir
from corpuskit.lm.transformer.model import TransformerLM


def load_run(run_dir: str | Path) -> tuple[TransformerLM, Any, int | None]:
    """The model, its tokenizer (through the tokenizer registry) and the EOS id recorded at training time."""
    from corpuskit.lm.transformer.data import load_tokenizer

    run_dir = Path(run_dir)
    model = TransformerLM.load(run_dir)
    folder = resolve_model_dir(run_dir)
    for candidate in (run_dir, folder.parent.parent):
        if (candidate / "tokenizer.json").exists():
            meta = read_json(candidate / "run.json") if (candidate / "run.json").exists() else {}
            return model, load_tokenizer(candidate / "tokenizer.json"), meta.get("eos_id")
    raise FileNotFoundError(f"{run_dir}: no tokenizer.json beside the model (train writes one into the run folder)")


def generate_text(model: TransformerLM, tokenizer: Any, prompts: Sequence[str], config: Any, eos: int | None) -> list[str]:
    """Continuations of each prompt as text (stop token dropped); an empty prompt starts after an EOS."""
    from corpuskit.lm.decoding import generate

    ids = []
    for prompt in prompts:
        encoded = tokenizer.encode(prompt, add_special_tokens=False) if prompt else []
        if not encoded:
            if eos is None:
                raise ValueError("an empty prompt needs the EOS id of the run (run.json)")
            encoded = [eos]
        ids.append(encoded)
    out = generate(model, ids, config)
    return [tokenizer.decode([t for t in row if t != eos]) for row in out]
