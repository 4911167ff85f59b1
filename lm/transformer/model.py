"""A Llama-family causal LM with a hand-written backward, read top to bottom.

Pre-norm blocks: RMSNorm (LayerNorm option) → attention with RoPE (learned positions option) and
grouped-query K/V heads → residual → RMSNorm → SwiGLU MLP (GELU option) → residual; a final norm
and an output head tied to the token embedding (or not). Every activation is a 2-D `(B·T, C)`
array, so each projection is one BLAS matmul; everything else goes through `self.ops` (see
`ops.py`), the seam where the CPU kernels, the NumPy reference or the GPU kernels (`gpu_ops.py`) plug in;
arrays are `self.xp` arrays (NumPy, or CuPy on the GPU path).

Parameters live in one flat buffer (`ParamStore`), gradients in another of the same layout: AdamW,
clipping and zeroing are one pass each. Memory of a training step grows with
n_layer · B · T · (4·C + 2·F) activations plus the parameters, gradients and two moments.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from corpuskit.lm.transformer import reference as ref
from corpuskit.lm.transformer.ops import ReferenceOps, get_ops


HEAD_CHUNK = 1 << 22  # logits per chunk of the head + loss (16 MiB in float32): bounded memory (1 << 24 measured no faster)


# -- configuration ------------------------------------------------------------------------------------
@dataclass
class TransformerConfig:
    """Shape and options of the model; saved as JSON next to every checkpoint."""

    vocab_size: int = 8192
    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    n_kv_head: int = 2  # GQA: each K/V head serves n_head // n_kv_head query heads (1: MQA)
    block_size: int = 128  # longest training window; learned positions cannot go beyond it
    ffn_hidden: int = 0  # 0: 8/3 · n_embd rounded up to a multiple of 64 (Llama's rule)
    norm: str = "rms"  # "rms" | "layer"
    mlp: str = "swiglu"  # "swiglu" | "gelu"
    positions: str = "rope"  # "rope" | "learned"
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = True
    dropout: float = 0.0
    init_std: float = 0.02

    def __post_init__(self) -> None:
        if self.ffn_hidden == 0:
            self.ffn_hidden = 64 * math.ceil(8 * self.n_embd / 3 / 64)
        checks = [
            (self.n_embd % self.n_head == 0, "n_embd must be a multiple of n_head"),
            (self.n_head % self.n_kv_head == 0, "n_head must be a multiple of n_kv_head"),
            (self.head_dim % 2 == 0, "head_dim (n_embd / n_head) must be even for RoPE"),
            (self.norm in ("rms", "layer"), "norm must be 'rms' or 'layer'"),
            (self.mlp in ("swiglu", "gelu"), "mlp must be 'swiglu' or 'gelu'"),
            (self.positions in ("rope", "learned"), "positions must be 'rope' or 'learned'"),
            (0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (min(self.vocab_size, self.n_layer, self.block_size) > 0, "vocab_size, n_layer and block_size must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"TransformerConfig: {message} (got {self})")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any], where: str = "config") -> "TransformerConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise ValueError(f"{where}: unknown transformer config keys {unknown}; known: {sorted(known)}")
        return cls(**obj)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "TransformerConfig":
        """A named shape ('tiny', 'small', 'gpt2-124m') with fields overridden (vocab_size usually)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})


PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n_layer=2, n_embd=128, n_head=4, n_kv_head=2, block_size=128, ffn_hidden=384),
    "small": dict(n_layer=6, n_embd=384, n_head=6, n_kv_head=2, block_size=256, ffn_hidden=1024),
    "gpt2-124m": dict(n_layer=12, n_embd=768, n_head=12, n_kv_head=12, block_size=1024, ffn_hidden=2048),
}


# -- parameters ---------------------------------------------------------------------------------------------
def param_specs(cfg: TransformerConfig) -> list[tuple[str, tuple[int, ...], bool]]:
    """(name, shape, weight-decayed) of every parameter; matrices are stored (in, out) so y = x @ W.

    Q, K and V projections are one matrix, gate and up projections another: fewer, wider matmuls.
    The embedding (and untied head) is (V, C): logits = h @ W.T. Decayed matrices come first.
    """
    c, f, d = cfg.n_embd, cfg.ffn_hidden, cfg.head_dim
    matrices: list[tuple[str, tuple[int, ...], bool]] = [("wte", (cfg.vocab_size, c), True)]
    if cfg.positions == "learned":
        matrices.append(("wpe", (cfg.block_size, c), True))
    vectors: list[tuple[str, tuple[int, ...], bool]] = []
    norms = ["w", "b"] if cfg.norm == "layer" else ["w"]
    for i in range(cfg.n_layer):
        p = f"h.{i}."
        matrices += [
            (p + "wqkv", (c, (cfg.n_head + 2 * cfg.n_kv_head) * d), True),  # [W_q | W_k | W_v]: one matmul
            (p + "wo", (cfg.n_head * d, c), True),
        ]
        if cfg.mlp == "swiglu":
            matrices += [(p + "w_gate_up", (c, 2 * f), True), (p + "w_down", (f, c), True)]  # [W_gate | W_up]
        else:
            matrices += [(p + "w_fc", (c, f), True), (p + "w_proj", (f, c), True)]
        vectors += [(p + f"attn_norm.{n}", (c,), False) for n in norms] + [(p + f"mlp_norm.{n}", (c,), False) for n in norms]
    vectors += [(f"norm_f.{n}", (c,), False) for n in norms]
    if not cfg.tie_embeddings:
        matrices.append(("head", (cfg.vocab_size, c), True))
    return matrices + vectors


class ParamStore:
    """All parameters in one flat array and their gradients in another; `p[name]` and `g[name]` are views."""

    def __init__(self, specs: Sequence[tuple[str, tuple[int, ...], bool]], dtype: Any = np.float32, xp: Any = np) -> None:
        self.specs = list(specs)
        self.offsets: dict[str, tuple[int, tuple[int, ...]]] = {}
        at = 0
        self.decay_size = 0
        for name, shape, decay in self.specs:
            self.offsets[name] = (at, shape)
            at += int(np.prod(shape))
            if decay:
                self.decay_size = at
        self.data = xp.zeros(at, dtype=dtype)  # xp: NumPy, or CuPy on the GPU path
        self.grad = xp.zeros(at, dtype=dtype)
        self.p = {n: self._view(self.data, n) for n in self.offsets}
        self.g = {n: self._view(self.grad, n) for n in self.offsets}

    def _view(self, flat: np.ndarray, name: str) -> np.ndarray:
        at, shape = self.offsets[name]
        return flat[at : at + int(np.prod(shape))].reshape(shape)

    @property
    def size(self) -> int:
        return self.data.size


# -- the model -------------------------------------------------------------------------------------------------
class TransformerLM:
    """The model: parameters, forward, backward, KV-cache decoding (the LanguageModel protocol).

        model = TransformerLM(TransformerConfig.preset("tiny", vocab_size=512), seed=0)
        loss = model.forward_backward(ids, targets)      # gradients land in model.params.grad
        logits = model.logits(ids)                       # (B, T, V) float32
    """

    def __init__(self, config: TransformerConfig, seed: int = 0, dtype: Any = np.float32, ops: str | ReferenceOps = "numba") -> None:
        self.config = config
        self.dtype = np.dtype(dtype)
        self.ops = get_ops(ops) if isinstance(ops, str) else ops
        self.xp = self.ops.xp
        self.params = ParamStore(param_specs(config), self.dtype, self.xp)
        self.training = False
        self.dropout_rng = np.random.default_rng(seed + 1)
        self._rope_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._init_weights(np.random.default_rng(seed))

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def num_parameters(self) -> int:
        return self.params.size

    def _init_weights(self, rng: np.random.Generator) -> None:
        """Normal(0, init_std) matrices; output projections scaled by 1/sqrt(2·n_layer) (GPT-2); norms 1, biases 0."""
        std = self.config.init_std
        for name, shape, _ in self.params.specs:
            view = self.params.p[name]
            if name.endswith(".w"):
                view[...] = 1.0
            elif name.endswith(".b"):
                view[...] = 0.0
            else:
                scale = std / math.sqrt(2 * self.config.n_layer) if name.endswith(("wo", "w_down", "w_proj")) else std
                view[...] = self.xp.asarray(rng.normal(0.0, scale, size=shape))

    # -- pieces ----------------------------------------------------------------------------------------------
    def _rope_tables(self, needed: int) -> tuple[np.ndarray, np.ndarray]:
        if self._rope_cache is None or self._rope_cache[0].shape[0] < needed:
            size = max(needed, self.config.block_size)
            cos, sin = ref.rope_tables(size, self.config.head_dim, self.config.rope_theta)
            self._rope_cache = (self.xp.asarray(cos.astype(self.dtype)), self.xp.asarray(sin.astype(self.dtype)))
        return self._rope_cache

    def _norm(self, prefix: str, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        p = self.params.p
        if self.config.norm == "rms":
            y, rstd = self.ops.rms_norm_forward(x, p[prefix + ".w"], self.config.norm_eps)
            return y, (x, rstd)
        y, mean, rstd = ref.layer_norm_forward(x, p[prefix + ".w"], p[prefix + ".b"], self.config.norm_eps)
        return y, (x, mean, rstd)

    def _norm_backward(self, prefix: str, saved: tuple, dy: np.ndarray) -> np.ndarray:
        p, g = self.params.p, self.params.g
        if self.config.norm == "rms":
            dx, dw = self.ops.rms_norm_backward(saved[0], p[prefix + ".w"], saved[1], dy)
        else:
            dx, dw, db = ref.layer_norm_backward(saved[0], p[prefix + ".w"], saved[1], saved[2], dy)
            g[prefix + ".b"] += db
        g[prefix + ".w"] += dw
        return dx

    def _dropout(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        rate = self.config.dropout
        if not self.training or rate == 0.0:
            return x, None
        mask = (self.dropout_rng.random(x.shape, dtype=np.float32) >= rate).astype(self.dtype) / self.dtype.type(1.0 - rate)
        mask = self.xp.asarray(mask)
        return x * mask, mask

    def _attention(self, i: int, x: np.ndarray, shape: tuple[int, int], pos: np.ndarray, cache: "KVCache | None") -> tuple[np.ndarray, tuple]:
        """x + Attention(Norm(x)); with a cache, K/V of these positions are appended and all cached keys attended."""
        cfg, p = self.config, self.params.p
        b, t = shape
        pre = f"h.{i}."
        h, saved_norm = self._norm(pre + "attn_norm", x)
        qkv = h @ p[pre + "wqkv"]  # (B·T, C) -> (B·T, (H + 2·Hkv)·D)
        hd, kd = cfg.n_head * cfg.head_dim, cfg.n_kv_head * cfg.head_dim
        q = qkv[:, :hd].reshape(b, t, cfg.n_head, cfg.head_dim)  # views: (B·T, H·D) -> (B, T, H, D)
        k = qkv[:, hd : hd + kd].reshape(b, t, cfg.n_kv_head, cfg.head_dim)
        v = self.xp.ascontiguousarray(qkv[:, hd + kd :]).reshape(b, t, cfg.n_kv_head, cfg.head_dim)  # kernels vectorise contiguous rows only
        if cfg.positions == "rope":
            cos, sin = self._rope_tables(int(pos.max()) + 1)
            q = self.ops.rope(q, pos, cos, sin)
            k = self.ops.rope(k, pos, cos, sin)
        key_mask = None
        kk, vv = k, v
        if cache is not None:
            kk, vv, key_mask = cache.append(i, k, v)
        o, lse = self.ops.attention_forward(q, kk, vv, True, key_mask)
        o2 = o.reshape(b * t, cfg.n_head * cfg.head_dim)  # (B, T, H, D) -> (B·T, H·D)
        a, mask = self._dropout(o2 @ p[pre + "wo"])
        return x + a, (saved_norm, h, q, k, v, o, lse, mask)

    def _attention_backward(self, i: int, saved: tuple, dx: np.ndarray, pos: np.ndarray) -> np.ndarray:
        cfg, p, g = self.config, self.params.p, self.params.g
        pre = f"h.{i}."
        saved_norm, h, q, k, v, o, lse, mask = saved
        b, t = q.shape[:2]
        da = dx * mask if mask is not None else dx
        o2 = o.reshape(b * t, -1)
        g[pre + "wo"] += o2.T @ da
        do = (da @ p[pre + "wo"].T).reshape(o.shape)
        dq, dk, dv = self.ops.attention_backward(q, k, v, o, lse, do, True, None)
        if cfg.positions == "rope":
            cos, sin = self._rope_tables(int(pos.max()) + 1)
            dq = self.ops.rope(dq, pos, cos, sin, inverse=True)
            dk = self.ops.rope(dk, pos, cos, sin, inverse=True)
        hd, kd = cfg.n_head * cfg.head_dim, cfg.n_kv_head * cfg.head_dim
        dqkv = self.xp.empty((b * t, hd + 2 * kd), dtype=dq.dtype)  # (B·T, (H + 2·Hkv)·D)
        dqkv[:, :hd] = dq.reshape(b * t, hd)
        dqkv[:, hd : hd + kd] = dk.reshape(b * t, kd)
        dqkv[:, hd + kd :] = dv.reshape(b * t, kd)
        g[pre + "wqkv"] += h.T @ dqkv
        dh = dqkv @ p[pre + "wqkv"].T
        return dx + self._norm_backward(pre + "attn_norm", saved_norm, dh)

    def _mlp(self, i: int, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        """x + MLP(Norm(x)): SwiGLU (W_down (silu(h W_gate) ⊙ h W_up)) or GELU (W_proj gelu(h W_fc))."""
        p = self.params.p
        pre = f"h.{i}."
        h, saved_norm = self._norm(pre + "mlp_norm", x)
        if self.config.mlp == "swiglu":
            gu = h @ p[pre + "w_gate_up"]  # (B·T, C) -> (B·T, 2F): [gate | up]
            m, mask = self._dropout(self.ops.swiglu_forward(gu) @ p[pre + "w_down"])
            return x + m, (saved_norm, h, gu, None, mask)
        fc = h @ p[pre + "w_fc"]
        m, mask = self._dropout(ref.gelu_forward(fc) @ p[pre + "w_proj"])
        return x + m, (saved_norm, h, fc, None, mask)

    def _mlp_backward(self, i: int, saved: tuple, dx: np.ndarray) -> np.ndarray:
        p, g = self.params.p, self.params.g
        pre = f"h.{i}."
        saved_norm, h, a, b, mask = saved
        dm = dx * mask if mask is not None else dx
        if self.config.mlp == "swiglu":
            s = self.ops.swiglu_forward(a)  # recomputed: cheaper than keeping (B·T, F)
            g[pre + "w_down"] += s.T @ dm
            dgu = self.ops.swiglu_backward(a, dm @ p[pre + "w_down"].T)  # (B·T, 2F)
            g[pre + "w_gate_up"] += h.T @ dgu
            dh = dgu @ p[pre + "w_gate_up"].T
        else:
            g[pre + "w_proj"] += ref.gelu_forward(a).T @ dm
            dfc = ref.gelu_backward(a, dm @ p[pre + "w_proj"].T)
            g[pre + "w_fc"] += h.T @ dfc
            dh = dfc @ p[pre + "w_fc"].T
        return dx + self._norm_backward(pre + "mlp_norm", saved_norm, dh)

    def _head_weight(self) -> np.ndarray:
        return self.params.p["wte" if self.config.tie_embeddings else "head"]

    # -- whole model ---------------------------------------------------------------------------------------------
    def _trunk(self, ids: np.ndarray, pos: np.ndarray, cache: "KVCache | None" = None) -> tuple[np.ndarray, list]:
        """Embeddings and blocks: final-normed hidden states (B·T, C) and what the backward needs."""
        b, t = ids.shape
        p = self.params.p
        flat = ids.reshape(-1)
        if flat.size and (flat.min() < 0 or flat.max() >= self.config.vocab_size):
            raise ValueError(f"token ids must be in [0, {self.config.vocab_size}); got {int(flat.min())}..{int(flat.max())}")
        x = p["wte"][self.xp.asarray(flat)]  # (B·T, C)
        if self.config.positions == "learned":
            if int(pos.max()) >= self.config.block_size:
                raise ValueError(f"position {int(pos.max())} is beyond block_size {self.config.block_size} (learned positions)")
            x = x + p["wpe"][self.xp.asarray(pos.reshape(-1))]
        x, emb_mask = self._dropout(x)
        saved: list = [emb_mask]
        for i in range(self.config.n_layer):
            x, sa = self._attention(i, x, (b, t), pos, cache)
            x, sm = self._mlp(i, x)
            saved.append((sa, sm))
        hf, saved_norm = self._norm("norm_f", x)
        saved.append(saved_norm)
        return hf, saved

    def _host(self, a: Any) -> np.ndarray:
        """A NumPy copy of an array of self.xp (no copy when xp is NumPy)."""
        return a if self.xp is np else self.xp.asnumpy(a)

    def _positions(self, b: int, t: int) -> np.ndarray:
        return np.broadcast_to(np.arange(t, dtype=np.int64), (b, t)).copy()

    def forward_backward(self, ids: np.ndarray, targets: np.ndarray, loss_scale: float = 1.0, ignore_index: int = -100) -> float:
        """Mean cross-entropy of `targets` given `ids` (both (B, T)); adds loss_scale · gradients to params.grad.

        The head and the loss run in row chunks: logits never exist for the whole batch at once.
        """
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        b, t = ids.shape
        pos = self._positions(b, t)
        hf, saved = self._trunk(ids, pos)
        tflat = np.ascontiguousarray(targets, dtype=np.int64).reshape(-1)
        count = max(1, int(np.sum(tflat != ignore_index)))
        w = self._head_weight()
        gw = self.params.g["wte" if self.config.tie_embeddings else "head"]
        dhf = self.xp.empty_like(hf)
        total = 0.0
        rows = max(1, HEAD_CHUNK // self.config.vocab_size)
        for r0 in range(0, hf.shape[0], rows):
            chunk = hf[r0 : r0 + rows]
            logits = chunk @ w.T  # (rows, V)
            loss_sum, dlogits = self.ops.cross_entropy(logits, tflat[r0 : r0 + rows], count, ignore_index)
            total += loss_sum
            if loss_scale != 1.0:
                dlogits *= self.dtype.type(loss_scale)
            dhf[r0 : r0 + rows] = dlogits @ w
            gw += dlogits.T @ chunk
        self._backward(ids, pos, saved, dhf)
        return total / count

    def _backward(self, ids: np.ndarray, pos: np.ndarray, saved: list, dhf: np.ndarray) -> None:
        dx = self._norm_backward("norm_f", saved[-1], dhf)
        for i in reversed(range(self.config.n_layer)):
            sa, sm = saved[1 + i]
            dx = self._mlp_backward(i, sm, dx)
            dx = self._attention_backward(i, sa, dx, pos)
        if saved[0] is not None:
            dx = dx * saved[0]
        if self.config.positions == "learned":
            self.ops.embedding_backward(pos.reshape(-1), dx, self.params.g["wpe"])
        self.ops.embedding_backward(ids.reshape(-1), dx, self.params.g["wte"])

    def logits(self, ids: np.ndarray) -> np.ndarray:
        """Logits (B, T, V) float32 for an int array (B, T) (or (T,), treated as one row). No dropout."""
        ids = np.atleast_2d(np.asarray(ids, dtype=np.int64))
        training, self.training = self.training, False
        try:
            hf, _ = self._trunk(ids, self._positions(*ids.shape))
        finally:
            self.training = training
        out = self._host(hf @ self._head_weight().T)
        return np.asarray(out, dtype=np.float32).reshape(ids.shape[0], ids.shape[1], -1)

    def loss(self, ids: np.ndarray, targets: np.ndarray, ignore_index: int = -100) -> tuple[float, int]:
        """Summed cross-entropy (nats) over non-ignored targets and their count; no gradients, no dropout."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        training, self.training = self.training, False
        try:
            hf, _ = self._trunk(ids, self._positions(*ids.shape))
        finally:
            self.training = training
        tflat = np.asarray(targets, dtype=np.int64).reshape(-1)
        total, w = 0.0, self._head_weight()
        rows = max(1, HEAD_CHUNK // self.config.vocab_size)
        for r0 in range(0, hf.shape[0], rows):
            logits = hf[r0 : r0 + rows] @ w.T
            loss_sum, _ = self.ops.cross_entropy(logits, tflat[r0 : r0 + rows], 1, ignore_index)
            total += loss_sum
        return total, int(np.sum(tflat != ignore_index))

    # -- KV-cache decoding (corpuskit.lm.decoding's LanguageModel protocol) -------------------------------------------
    def start(self, prompts: Sequence[Sequence[int]]) -> tuple[np.ndarray, "KVCache"]:
        """Run the prompts (left-padded to one length, padding masked out) and return next-token logprobs (B, V)."""
        if not prompts or any(len(pr) == 0 for pr in prompts):
            raise ValueError("start() needs at least one prompt and every prompt needs at least one token")
        lengths = np.array([len(pr) for pr in prompts], dtype=np.int64)
        b, t = len(prompts), int(lengths.max())
        ids = np.zeros((b, t), dtype=np.int64)
        for r, pr in enumerate(prompts):
            ids[r, t - len(pr) :] = pr
        pad = t - lengths
        pos = np.maximum(np.arange(t, dtype=np.int64)[None, :] - pad[:, None], 0)
        cache = KVCache.empty(self.config, b, t + 64, self.dtype, self.xp)
        cache.real[:, :t] = np.arange(t)[None, :] >= pad[:, None]
        return self._decode(ids, pos, cache, lengths)

    def step(self, state: "KVCache", tokens: np.ndarray) -> tuple[np.ndarray, "KVCache"]:
        """Feed one token per row (B,); returns the next logprobs (B, V). The state is updated in place."""
        tokens = np.asarray(tokens, dtype=np.int64).reshape(-1, 1)
        if tokens.shape[0] != state.batch:
            raise ValueError(f"step() got {tokens.shape[0]} tokens for a batch of {state.batch}")
        state.reserve(1)
        state.real[:, state.length] = True
        return self._decode(tokens, state.next_pos[:, None].copy(), state, state.next_pos + 1)

    def reorder(self, state: "KVCache", indices: np.ndarray) -> "KVCache":
        """A cache whose row r is the old row indices[r] (beam search; rows may repeat)."""
        return state.take(np.asarray(indices, dtype=np.int64))

    def _decode(self, ids: np.ndarray, pos: np.ndarray, cache: "KVCache", next_pos: np.ndarray) -> tuple[np.ndarray, "KVCache"]:
        training, self.training = self.training, False
        try:
            hf, _ = self._trunk(ids, pos, cache)
        finally:
            self.training = training
        cache.length += ids.shape[1]
        cache.next_pos = np.asarray(next_pos, dtype=np.int64)
        last = hf.reshape(ids.shape[0], ids.shape[1], -1)[:, -1, :]
        return self._host(self.ops.log_softmax(self.xp.ascontiguousarray(last @ self._head_weight().T))), cache

    # -- files ---------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter by name as a NumPy array (views on the CPU; host copies on the GPU path)."""
        return {name: self._host(self.params.p[name]) for name, _, _ in self.params.specs}

    def load_state_dict(self, tensors: dict[str, np.ndarray], where: str = "checkpoint") -> None:
        """Copy named arrays into the parameters; a missing, unexpected or misshapen tensor is an error naming it."""
        expected = {name: shape for name, shape, _ in self.params.specs}
        missing = sorted(set(expected) - set(tensors))
        extra = sorted(set(tensors) - set(expected))
        if missing or extra:
            raise ValueError(f"{where}: tensors do not match the config (missing {missing[:5]}, unexpected {extra[:5]})")
        for name, shape in expected.items():
            if tuple(tensors[name].shape) != shape:
                raise ValueError(f"{where}: tensor {name} has shape {tuple(tensors[name].shape)}, expected {shape}")
            self.params.p[name][...] = self.xp.asarray(tensors[name])

    def save(self, directory: str | Path) -> None:
        """config.json + model.safetensors in `directory` (each written to a temp name, then renamed)."""
        from corpuskit.lm.transformer.checkpoint import write_json, write_safetensors

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_safetensors(directory / "model.safetensors", self.state_dict(), {"format": "corpuskit.transformer/1"})
        write_json(directory / "config.json", self.config.to_dict())

    @classmethod
    def load(cls, path: str | Path, ops: str = "numba") -> "TransformerLM":
        """Our own model: a run folder (its latest checkpoint), a checkpoint folder, or a saved model folder."""
        from corpuskit.lm.transformer.checkpoint import load_model

        return load_model(Path(path), ops=ops)

    @classmethod
    def from_pretrained(cls, hf_dir: str | Path, ops: str = "numba") -> "TransformerLM":
        """A Llama checkpoint saved by Hugging Face transformers in a local folder."""
        from corpuskit.lm.transformer.hf import load_hf

        return load_hf(Path(hf_dir), ops=ops)


# -- the KV cache ------------------------------------------------------------------------------------------------------
@dataclass
class KVCache:
    """Decoding state: per-layer keys and values (B, capacity, Hkv, D), which columns hold real tokens, next positions.

    Keys and values are arrays of `xp` (the model's: CuPy on the GPU path); the mask and positions stay on the host.
    """

    k: list[np.ndarray]
    v: list[np.ndarray]
    real: np.ndarray  # (B, capacity) bool: False for left padding and unused columns
    length: int  # columns filled
    next_pos: np.ndarray  # (B,) position of each row's next token
    xp: Any = np

    @classmethod
    def empty(cls, cfg: TransformerConfig, batch: int, capacity: int, dtype: Any, xp: Any = np) -> "KVCache":
        shape = (batch, capacity, cfg.n_kv_head, cfg.head_dim)
        return cls(
            [xp.zeros(shape, dtype) for _ in range(cfg.n_layer)],
            [xp.zeros(shape, dtype) for _ in range(cfg.n_layer)],
            np.zeros((batch, capacity), dtype=bool),
            0,
            np.zeros(batch, dtype=np.int64),
            xp,
        )

    @property
    def batch(self) -> int:
        return self.real.shape[0]

    def reserve(self, extra: int) -> None:
        """Make room for `extra` more columns (capacity doubles: appends cost O(1) amortised)."""
        capacity = self.real.shape[1]
        if self.length + extra <= capacity:
            return
        new = max(2 * capacity, self.length + extra)
        def grow(a: Any, xp: Any) -> Any:
            return xp.concatenate([a, xp.zeros((a.shape[0], new - capacity, *a.shape[2:]), a.dtype)], axis=1)

        self.k = [grow(a, self.xp) for a in self.k]
        self.v = [grow(a, self.xp) for a in self.v]
        self.real = grow(self.real, np)

    def append(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Write this call's K/V after the filled columns; return all keys, values and the key mask so far."""
        end = self.length + k.shape[1]
        self.reserve(k.shape[1])
        self.k[layer][:, self.length : end] = k
        self.v[layer][:, self.length : end] = v
        return self.k[layer][:, :end], self.v[layer][:, :end], self.real[:, :end]

    def take(self, rows: np.ndarray) -> "KVCache":
        dev = self.xp.asarray(rows)
        return KVCache([a[dev] for a in self.k], [a[dev] for a in self.v], self.real[rows], self.length, self.next_pos[rows].copy(), self.xp)


def load_config(path: str | Path) -> TransformerConfig:
    """A config JSON file (the fields of TransformerConfig)."""
    with open(path, encoding="utf-8") as handle:
        return TransformerConfig.from_dict(json.load(handle), where=str(path))
