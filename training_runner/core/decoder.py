"""Decoder-only Transformer in plain PyTorch, readable in one sitting.

Two architecture families share one module tree, selected by ``DecoderConfig.arch``:

- ``"llama"``: rotary position embeddings (RoPE), RMSNorm, gated MLP (SwiGLU), grouped-query
  attention, no biases by default.
- ``"gpt2"``: learned absolute position embeddings, LayerNorm with bias, GELU MLP, biases everywhere.

Module names are our own (``layers.0.attn.q_proj``); ``hf_format.py`` maps them to and from the
``transformers`` key layouts (``model.layers.0.self_attn.q_proj``, GPT-2's fused Conv1D
``transformer.h.0.attn.c_attn``), so checkpoints travel both ways.

``Decoder.forward`` returns the logits tensor ``(B, T, V)`` itself (no output wrapper).

Shapes: B batch, T new tokens, S keys (cached + new), C hidden size, H query heads, K key/value
heads, D head size, V vocabulary.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .model_config import ACTIVATIONS, ARCHS, ROPE_TYPES, DecoderConfig  # noqa: F401  (their home before)


def activation(name: str):
    if name == "silu":
        return F.silu
    if name == "gelu":
        return F.gelu
    return lambda x: F.gelu(x, approximate="tanh")  # gelu_new / gelu_pytorch_tanh


# ----------------------------------------------------------------------------- rotary embeddings


def rope_inverse_frequencies(cfg: DecoderConfig, device: torch.device | None = None) -> torch.Tensor:
    """(D/2,) float32 angular speeds of the rotary pairs, with optional context-extension scaling."""
    dim = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.float32, device=device) / dim))
    scaling = cfg.rope_scaling or {"rope_type": "default"}
    kind = scaling["rope_type"]
    if kind == "linear":
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        # Long wavelengths slow down by `factor`, short ones stay, the band between is interpolated.
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_len = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > old_len / low, inv_freq / factor, inv_freq)
        smooth = (old_len / wavelen - low) / (high - low)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old_len / high) & (wavelen <= old_len / low)
        return torch.where(medium, blended, scaled)
    return inv_freq


def rope_cos_sin(cfg: DecoderConfig, position_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    """cos and sin tables (B, 1, T, D/2) for positions (B, T), computed in float32 then cast.

    Positions shared by every row can come as (1, T): the tables are then (1, 1, T, D/2).
    """
    inv_freq = rope_inverse_frequencies(cfg, position_ids.device)
    with torch.autocast(position_ids.device.type, enabled=False):
        angles = position_ids[:, None, :, None].float() * inv_freq  # (B, 1, T, D/2)
        return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each (i, i + D/2) pair of ``x`` (B, heads, T, D) by its position's angle.

    The tables broadcast against ``x``: (B, 1, T, D/2) here, (B, T, 1, D/2) for ``x`` as (B, T, heads, D).

    The pairs are the two halves of the head (the layout of the Llama weights), not interleaved.
    """
    x1, x2 = x.chunk(2, dim=-1)  # (B, heads, T, D/2) each
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


# ----------------------------------------------------------------------------- layers


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == self.weight.dtype == torch.float32 and not torch.is_autocast_enabled(x.device.type):
            # The same float32 arithmetic as below with the scale inside the norm's kernel: one op,
            # one backward, bitwise the same result.
            return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)
        # Normalise in float32 even under bf16 autocast; scale in the input dtype (as the Llama reference).
        normed = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps).to(x.dtype)
        return self.weight * normed


class KVCache:
    """Keys and values of every layer, pre-allocated to ``max_len`` positions: (B, K, max_len, D) each.

    ``Decoder.forward`` writes the new positions of each layer with ``update`` and then moves
    ``length`` forward once for the whole stack.
    """

    def __init__(self, cfg: DecoderConfig, batch_size: int, max_len: int, *, device, dtype) -> None:
        shape = (batch_size, cfg.num_kv_heads, max_len, cfg.head_dim)
        self.keys = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(cfg.num_layers)]
        self.values = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(cfg.num_layers)]
        self.max_len = max_len
        self.length = 0

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        end = self.length + k.shape[2]
        if end > self.max_len:
            raise ValueError(f"KV cache holds {self.max_len} positions; {end} requested")
        self.keys[layer][:, :, self.length : end] = k
        self.values[layer][:, :, self.length : end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]  # (B, K, S, D)

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep the rows ``rows`` (B,) in that order: beam search continues the beams it chose."""
        self.keys = [k.index_select(0, rows) for k in self.keys]
        self.values = [v.index_select(0, rows) for v in self.values]


class Attention(nn.Module):
    def __init__(self, cfg: DecoderConfig, layer: int) -> None:
        super().__init__()
        self.cfg, self.layer = cfg, layer
        H, K, D, C = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim, cfg.hidden_size
        self.q_proj = nn.Linear(C, H * D, bias=cfg.attention_bias)
        self.k_proj = nn.Linear(C, K * D, bias=cfg.attention_bias)
        self.v_proj = nn.Linear(C, K * D, bias=cfg.attention_bias)
        self.o_proj = nn.Linear(H * D, C, bias=cfg.attention_bias)

    def forward(self, x, rope, mask, is_causal: bool, kv_cache: KVCache | None) -> torch.Tensor:
        B, T, _ = x.shape  # (B, T, C)
        H, K, D = self.cfg.num_heads, self.cfg.num_kv_heads, self.cfg.head_dim
        layers = (self.q_proj, self.k_proj, self.v_proj)
        if self.training and fusable(layers):
            # One matmul for q, k and v, and one rotation over the adjacent q and k columns.
            qk, v = fused_linear(x, layers).split([(H + K) * D, K * D], dim=-1)  # (B, T, (H+K)·D), (B, T, K·D)
            qk = qk.unflatten(-1, (H + K, D))  # (B, T, H + K, D)
            if rope is not None:
                qk = apply_rope(qk, *(table.transpose(1, 2) for table in rope))  # tables as (B, T, 1, D/2)
            q, k = qk.transpose(1, 2).split([H, K], dim=1)  # (B, H, T, D), (B, K, T, D)
        else:
            q, k, v = (layer(x) for layer in layers)
            q = q.reshape(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
            k = k.reshape(B, T, K, D).transpose(1, 2)  # (B, K, T, D)
            if rope is not None:
                q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        v = v.reshape(B, T, K, D).transpose(1, 2)  # (B, K, T, D)
        if kv_cache is not None:
            k, v = kv_cache.update(self.layer, k, v)  # (B, K, S, D)
        # Grouped-query attention: each key/value head serves H/K query heads. SDPA does that without
        # copies, but with an explicit mask CUDA would fall back to its slow kernel: repeat K/V then.
        grouped = K != H
        if grouped and mask is not None:
            k, v = k.repeat_interleave(H // K, dim=1), v.repeat_interleave(H // K, dim=1)  # (B, H, S, D)
            grouped = False
        dropout = self.cfg.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=is_causal, enable_gqa=grouped
        )  # (B, H, T, D)
        y = y.transpose(1, 2).reshape(B, T, H * D)  # (B, T, H·D)
        return self.o_proj(y)  # (B, T, C)


class MLP(nn.Module):
    """SwiGLU ``down(act(gate(x)) · up(x))`` for llama; ``down(act(up(x)))`` for gpt2."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        C, F_ = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(C, F_, bias=cfg.mlp_bias) if cfg.arch == "llama" else None
        self.up_proj = nn.Linear(C, F_, bias=cfg.mlp_bias)
        self.down_proj = nn.Linear(F_, C, bias=cfg.mlp_bias)
        self.act = activation(cfg.hidden_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gate_proj is None:
            return self.down_proj(self.act(self.up_proj(x)))  # (B, T, C)
        layers = (self.gate_proj, self.up_proj)
        if self.training and fusable(layers):
            gate, up = fused_linear(x, layers).chunk(2, dim=-1)  # (B, T, F) each
        else:
            gate, up = (layer(x) for layer in layers)
        return self.down_proj(self.act(gate) * up)  # (B, T, C)


def fusable(layers: tuple[nn.Module, ...]) -> bool:
    """Plain ``nn.Linear`` layers (not adapted ones, e.g. LoRA) can run as one matmul."""
    return all(type(layer) is nn.Linear for layer in layers)


def fused_linear(x: torch.Tensor, layers: tuple[nn.Linear, ...]) -> torch.Tensor:
    """The outputs of ``layers`` on ``x`` side by side, from one matmul over their joined weights.

    One wide matmul (forward) and one gradient matmul for ``x`` (backward) instead of one each per
    layer and the sum of their input gradients. The weights are concatenated on every call, which
    pays off on many rows (training), not on one-token decoding steps.
    """
    weight = torch.cat([layer.weight for layer in layers])
    bias = None if layers[0].bias is None else torch.cat([layer.bias for layer in layers])
    return F.linear(x, weight, bias)


def make_norm(cfg: DecoderConfig) -> nn.Module:
    return (
        RMSNorm(cfg.hidden_size, cfg.norm_eps) if cfg.arch == "llama" else nn.LayerNorm(cfg.hidden_size, cfg.norm_eps)
    )


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, cfg: DecoderConfig, layer: int) -> None:
        super().__init__()
        self.attn_norm = make_norm(cfg)
        self.attn = Attention(cfg, layer)
        self.mlp_norm = make_norm(cfg)
        self.mlp = MLP(cfg)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, rope, mask, is_causal, kv_cache):
        x = x + self.dropout(self.attn(self.attn_norm(x), rope, mask, is_causal, kv_cache))
        return x + self.dropout(self.mlp(self.mlp_norm(x)))  # (B, T, C)


# ----------------------------------------------------------------------------- the model


class Decoder(nn.Module):
    """Causal language model. ``forward`` returns logits (B, T, V)."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.config = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.embed_positions = (
            nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size) if cfg.arch == "gpt2" else None
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.num_layers))
        self.norm = make_norm(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.apply(self._init_weights)
        for block in self.layers:  # residual branches start small so the stack starts near identity
            for proj in (block.attn.o_proj, block.mlp.down_proj):
                nn.init.normal_(proj.weight, std=cfg.initializer_range / math.sqrt(2 * cfg.num_layers))
        self.tie_weights()

    def tie_weights(self) -> None:
        """Make the output projection the token embedding itself (one Parameter) when configured."""
        if self.config.tie_word_embeddings:
            self.lm_head.weight = self.embed_tokens.weight

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def new_kv_cache(self, batch_size: int, max_len: int) -> KVCache:
        weight = self.embed_tokens.weight
        return KVCache(self.config, batch_size, max_len, device=weight.device, dtype=weight.dtype)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        *,
        position_ids: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
        last_only: bool = False,
        hidden_only: bool = False,
    ) -> torch.Tensor:
        """Logits (B, T, V), or (B, 1, V) for the last position when ``last_only``.

        ``hidden_only`` returns the final-norm hidden states (B, T, C) instead, for a loss that
        applies the output head itself without materialising all logits (``linear_cross_entropy``).

        ``attention_mask`` (B, S) marks real tokens with 1 over the cached and the new positions.
        Positions come from it (left padding gets the same positions as no padding), so a
        sequence's logits do not depend on how much padding shares its batch.
        """
        cfg = self.config
        T = input_ids.shape[1]
        past = kv_cache.length if kv_cache is not None else 0
        S = past + T
        if attention_mask is not None and bool(attention_mask.all()):
            attention_mask = None  # no padding: take the fast causal path
        if position_ids is None:
            if attention_mask is not None:
                position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, past:S]
            else:
                position_ids = torch.arange(past, S, device=input_ids.device)[None]  # (1, T): one table for all rows
        mask, is_causal = self._attention_mask(attention_mask, T, past, input_ids.device)

        x = self.embed_tokens(input_ids)  # (B, T, C)
        rope = None
        if cfg.uses_rope:
            rope = rope_cos_sin(cfg, position_ids, x.dtype)
        else:
            x = x + self.embed_positions(position_ids)
        x = self.dropout(x)
        for block in self.layers:
            x = block(x, rope, mask, is_causal, kv_cache)
        if kv_cache is not None:
            kv_cache.length = S
        if last_only:
            x = x[:, -1:]
        x = self.norm(x)  # (B, T, C)
        return x if hidden_only else self.lm_head(x)  # (B, T, V)

    @staticmethod
    def _attention_mask(attention_mask, T: int, past: int, device) -> tuple[torch.Tensor | None, bool]:
        """Boolean mask (B|1, 1, T, S) where True means "may attend", or the SDPA causal flag."""
        if attention_mask is None and past == 0:
            return None, T > 1
        if attention_mask is None and T == 1:
            return None, False  # one new token sees every cached one
        S = past + T
        query_pos = torch.arange(past, S, device=device)[:, None]  # (T, 1)
        allowed = torch.arange(S, device=device)[None, :] <= query_pos  # (T, S) causal
        if attention_mask is None:
            return allowed[None, None], False
        allowed = allowed[None, None] & attention_mask.bool()[:, None, None, :]  # (B, 1, T, S)
        # A padding query would see no key at all (NaN rows); let every query see itself.
        allowed = allowed | (torch.arange(S, device=device)[None, :] == query_pos)
        return allowed, False

    def num_params(self, *, matmul_only: bool = False) -> int:
        """Parameter count; ``matmul_only`` leaves out the embedding lookups (counted once if tied)."""
        params = {id(p): p for p in self.parameters()}
        if matmul_only:
            if self.embed_positions is not None:
                params.pop(id(self.embed_positions.weight))
            if not self.config.tie_word_embeddings:
                params.pop(id(self.embed_tokens.weight), None)
        return sum(p.numel() for p in params.values())

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token: 6N for the matmuls plus 12·L·H·D·T for attention scores (PaLM)."""
        cfg = self.config
        return 6 * self.num_params(matmul_only=True) + 12 * cfg.num_layers * cfg.num_heads * cfg.head_dim * seq_len
