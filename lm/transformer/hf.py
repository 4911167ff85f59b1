"""Hugging Face interop: export to, and import from, `LlamaForCausalLM` folders (no torch needed).

Our RoPE already uses Llama's half-rotation layout ([x1, x2] -> [x1 c - x2 s, x2 c + x1 s]) and our
projections are stored (in, out), so the mapping is a transpose per matrix and a rename; there is
no Q/K row permutation. Memory: one copy of the weights.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.lm.transformer.checkpoint import read_json, resolve_model_dir, write_json, write_safetensors
from corpuskit.lm.transformer.model import TransformerConfig, TransformerLM

# Keys of a Llama config.json we read, and keys that carry no architecture (ignored).
SUPPORTED_KEYS = {
    "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "max_position_embeddings", "rms_norm_eps", "rope_theta",
    "rope_parameters", "rope_scaling", "tie_word_embeddings", "hidden_act", "attention_bias", "mlp_bias",
    "pretraining_tp", "attention_dropout",
}
IGNORED_KEYS = {
    "architectures", "model_type", "transformers_version", "torch_dtype", "dtype", "bos_token_id",
    "eos_token_id", "pad_token_id", "use_cache", "initializer_range", "_name_or_path", "output_attentions",
    "output_hidden_states", "return_dict",
}


def unsupported_reason(cfg: TransformerConfig) -> str | None:
    """Why LlamaForCausalLM cannot express this config (None if it can), naming the option to change."""
    if cfg.norm != "rms":
        return "norm='layer' (LayerNorm): LlamaForCausalLM has RMSNorm only; train with norm='rms'"
    if cfg.mlp != "swiglu":
        return "mlp='gelu': LlamaForCausalLM has a SwiGLU MLP only; train with mlp='swiglu'"
    if cfg.positions != "rope":
        return "positions='learned': LlamaForCausalLM has rotary positions only; train with positions='rope'"
    return None


def hf_config(cfg: TransformerConfig, bos_id: int | None = None, eos_id: int | None = None) -> dict[str, Any]:
    """config.json for LlamaForCausalLM with this model's shape (rope_theta written for 4.x and 5.x readers)."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.n_embd,
        "intermediate_size": cfg.ffn_hidden,
        "num_hidden_layers": cfg.n_layer,
        "num_attention_heads": cfg.n_head,
        "num_key_value_heads": cfg.n_kv_head,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.block_size,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_parameters": {"rope_type": "default", "rope_theta": cfg.rope_theta},
        "tie_word_embeddings": cfg.tie_embeddings,
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "torch_dtype": "float32",
        "use_cache": True,
    }


def to_hf_tensors(model: TransformerLM) -> dict[str, np.ndarray]:
    """Our parameters under Llama's names, matrices transposed to (out, in)."""
    p, cfg = model.params.p, model.config
    out = {"model.embed_tokens.weight": p["wte"], "model.norm.weight": p["norm_f.w"]}
    hd, kd, f = cfg.n_head * cfg.head_dim, cfg.n_kv_head * cfg.head_dim, cfg.ffn_hidden
    for i in range(cfg.n_layer):
        pre, qkv, gu = f"model.layers.{i}.", p[f"h.{i}.wqkv"], p[f"h.{i}.w_gate_up"]
        out[pre + "self_attn.q_proj.weight"] = qkv[:, :hd].T
        out[pre + "self_attn.k_proj.weight"] = qkv[:, hd : hd + kd].T
        out[pre + "self_attn.v_proj.weight"] = qkv[:, hd + kd :].T
        out[pre + "self_attn.o_proj.weight"] = p[f"h.{i}.wo"].T
        out[pre + "mlp.gate_proj.weight"] = gu[:, :f].T
        out[pre + "mlp.up_proj.weight"] = gu[:, f:].T
        out[pre + "mlp.down_proj.weight"] = p[f"h.{i}.w_down"].T
        out[f"model.layers.{i}.input_layernorm.weight"] = p[f"h.{i}.attn_norm.w"]
        out[f"model.layers.{i}.post_attention_layernorm.weight"] = p[f"h.{i}.mlp_norm.w"]
    if not cfg.tie_embeddings:
        out["lm_head.weight"] = p["head"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def from_hf_tensors(cfg: TransformerConfig, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Llama's tensors under our names; the inverse of to_hf_tensors."""
    def get(name: str) -> np.ndarray:
        if name not in tensors:
            raise ValueError(f"Llama checkpoint has no tensor {name!r}")
        return tensors[name]

    ours = {"wte": get("model.embed_tokens.weight"), "norm_f.w": get("model.norm.weight")}
    for i in range(cfg.n_layer):
        pre = f"model.layers.{i}."
        ours[f"h.{i}.wqkv"] = np.concatenate([get(pre + f"self_attn.{n}_proj.weight").T for n in "qkv"], axis=1)
        ours[f"h.{i}.wo"] = get(pre + "self_attn.o_proj.weight").T
        ours[f"h.{i}.w_gate_up"] = np.concatenate([get(pre + f"mlp.{n}_proj.weight").T for n in ("gate", "up")], axis=1)
        ours[f"h.{i}.w_down"] = get(pre + "mlp.down_proj.weight").T
        ours[f"h.{i}.attn_norm.w"] = get(f"model.layers.{i}.input_layernorm.weight")
        ours[f"h.{i}.mlp_norm.w"] = get(f"model.layers.{i}.post_attention_layernorm.weight")
    if not cfg.tie_embeddings:
        ours["head"] = get("lm_head.weight")
    return ours


# -- reading safetensors without torch (bf16 and fp16 included) ----------------------------------------------------------
_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": np.uint16}


def read_safetensors_f32(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as float32 (BF16 widened by a 16-bit shift)."""
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
        base = 8 + size
        out: dict[str, np.ndarray] = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in _DTYPES:
                raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}; expected F32, F16, BF16 or F64")
            start, end = info["data_offsets"]
            handle.seek(base + start)
            raw = np.frombuffer(handle.read(end - start), dtype=_DTYPES[info["dtype"]])
            arr = (raw.astype(np.uint32) << 16).view(np.float32) if info["dtype"] == "BF16" else raw.astype(np.float32)
            out[name] = arr.reshape(info["shape"])
    return out


def _hf_weights(folder: Path) -> dict[str, np.ndarray]:
    single = folder / "model.safetensors"
    if single.exists():
        return read_safetensors_f32(single)
    index = folder / "model.safetensors.index.json"
    if index.exists():
        out: dict[str, np.ndarray] = {}
        for shard in sorted(set(read_json(index)["weight_map"].values())):
            out.update(read_safetensors_f32(folder / shard))
        return out
    raise FileNotFoundError(f"{folder}: no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are read)")


def config_from_hf(obj: dict[str, Any], where: str) -> TransformerConfig:
    """Our config from a Llama config.json; any key we do not support, or an unsupported value, is an error naming it."""
    unknown = sorted(set(obj) - SUPPORTED_KEYS - IGNORED_KEYS)
    if unknown:
        raise ValueError(f"{where}: unsupported config keys {unknown} (supported: {sorted(SUPPORTED_KEYS)})")
    if obj.get("model_type", "llama") != "llama":
        raise ValueError(f"{where}: model_type {obj.get('model_type')!r} is not 'llama'")
    rope = obj.get("rope_parameters") or {}
    scaling = obj.get("rope_scaling")
    if (rope.get("rope_type", "default") != "default") or (scaling not in (None, {}) and scaling.get("rope_type", "default") != "default"):
        raise ValueError(f"{where}: unsupported key rope_scaling / rope_parameters.rope_type (only default RoPE is supported)")
    for key, ok in (("hidden_act", "silu"), ("attention_bias", False), ("mlp_bias", False), ("pretraining_tp", 1)):
        if key in obj and obj[key] != ok:
            raise ValueError(f"{where}: unsupported value {key}={obj[key]!r} (supported: {ok!r})")
    heads = obj["num_attention_heads"]
    hidden = obj["hidden_size"]
    if obj.get("head_dim") not in (None, hidden // heads):
        raise ValueError(f"{where}: unsupported key head_dim={obj['head_dim']} (must equal hidden_size / num_attention_heads)")
    theta = rope.get("rope_theta", obj.get("rope_theta", 10000.0))
    return TransformerConfig(
        vocab_size=obj["vocab_size"],
        n_layer=obj["num_hidden_layers"],
        n_embd=hidden,
        n_head=heads,
        n_kv_head=obj.get("num_key_value_heads") or heads,
        block_size=obj.get("max_position_embeddings", 2048),
        ffn_hidden=obj["intermediate_size"],
        rope_theta=float(theta),
        norm_eps=float(obj.get("rms_norm_eps", 1e-6)),
        tie_embeddings=bool(obj.get("tie_word_embeddings", True)),
    )


def load_hf(folder: Path, ops: str = "numba") -> TransformerLM:
    """A TransformerLM from a local LlamaForCausalLM folder (config.json + safetensors weights)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a local folder (from_pretrained reads local folders only, never downloads)")
    cfg = config_from_hf(read_json(folder / "config.json"), str(folder / "config.json"))
    tensors = _hf_weights(folder)
    if cfg.tie_embeddings and "lm_head.weight" in tensors and not np.array_equal(tensors["lm_head.weight"], tensors["model.embed_tokens.weight"]):
        raise ValueError(f"{folder}: tie_word_embeddings is true but lm_head.weight differs from the embedding")
    model = TransformerLM(cfg, ops=ops)
    model.load_state_dict(from_hf_tensors(cfg, tensors), where=str(folder))
    return model


def export_hf(run_dir: Path, out: Path) -> Path:
    """Write a LlamaForCausalLM folder (config, weights, generation config, tokenizer files) from a run or model folder."""
    from corpuskit.lm.transformer.checkpoint import load_model

    source = resolve_model_dir(run_dir)
    model = load_model(source)
    reason = unsupported_reason(model.config)
    if reason:
        raise ValueError(f"cannot export {source}: {reason}")
    meta = _run_meta(run_dir, source)
    eos = meta.get("eos_id")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", hf_config(model.config, bos_id=eos, eos_id=eos))
    write_safetensors(out / "model.safetensors", to_hf_tensors(model), {"format": "pt"})
    write_json(out / "generation_config.json", {"bos_token_id": eos, "eos_token_id": eos, "do_sample": False})
    tokenizer = meta.get("tokenizer")
    if tokenizer and Path(tokenizer).exists():
        shutil.copyfile(tokenizer, out / "tokenizer.json")
        eos_token = meta.get("eos_token")
        write_json(out / "tokenizer_config.json", {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "eos_token": eos_token,
            "bos_token": eos_token,
            "model_max_length": model.config.block_size,
        })
        write_json(out / "special_tokens_map.json", {"eos_token": eos_token, "bos_token": eos_token})
    return out


def _run_meta(run_dir: Path, source: Path) -> dict[str, Any]:
    """Tokenizer path, EOS id and token recorded by training (run.json in the run folder), if any."""
    for folder in (run_dir, source, source.parent.parent):
        if (folder / "run.json").exists():
            meta = read_json(folder / "run.json")
            tok = folder / "tokenizer.json"
            if tok.exists():
                meta["tokenizer"] = str(tok)
            return meta
    return {}
