"""Bidirectional Transformer encoder (BERT family) with masked-LM and sequence-classification heads.

Post-norm blocks (``norm(x + attn(x))``, then ``norm(x + mlp(x))``), learned absolute and
token-type embeddings, exact GELU. ``hf_format.py`` maps the module names to the ``transformers``
BERT layout (``encoder.layer.0.attention.self.query``) and back.

``Encoder.forward`` returns a tensor, chosen by ``EncoderConfig.head``:
``"base"`` → last hidden states (B, T, C) (``pool`` gives BERT's pooled (B, C) vector),
``"mlm"`` → vocabulary logits (B, T, V), ``"classification"`` → label logits (B, num_labels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .decoder import activation
from .model_config import ENCODER_ACTIVATIONS, HEADS, EncoderConfig  # noqa: F401  (their home before)


class EncoderAttention(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        C = cfg.hidden_size
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(C, C) for _ in range(4))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, T, C = x.shape  # (B, T, C)
        H, D = self.cfg.num_heads, self.cfg.head_dim
        q, k, v = (proj(x).view(B, T, H, D).transpose(1, 2) for proj in (self.q_proj, self.k_proj, self.v_proj))
        dropout = self.cfg.attention_dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)  # (B, H, T, D)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C)


class EncoderBlock(nn.Module):
    """Post-norm block, as BERT: the residual sum is normalised, not the branch input."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        C = cfg.hidden_size
        self.attn = EncoderAttention(cfg)
        self.attn_norm = nn.LayerNorm(C, eps=cfg.norm_eps)
        self.up_proj = nn.Linear(C, cfg.intermediate_size)
        self.down_proj = nn.Linear(cfg.intermediate_size, C)
        self.mlp_norm = nn.LayerNorm(C, eps=cfg.norm_eps)
        self.act = activation(cfg.hidden_act)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.attn_norm(x + self.dropout(self.attn(x, mask)))
        return self.mlp_norm(x + self.dropout(self.down_proj(self.act(self.up_proj(x)))))  # (B, T, C)


class Encoder(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.config = cfg
        C = cfg.hidden_size
        self.tok_embed = nn.Embedding(cfg.vocab_size, C, padding_idx=cfg.pad_token_id)
        self.pos_embed = nn.Embedding(cfg.max_position_embeddings, C)
        self.type_embed = nn.Embedding(cfg.type_vocab_size, C)
        self.embed_norm = nn.LayerNorm(C, eps=cfg.norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(EncoderBlock(cfg) for _ in range(cfg.num_layers))
        # Pooler: tanh(W · h[CLS]), used by the base model and by the classification head.
        self.pooler = nn.Linear(C, C) if cfg.head in ("base", "classification") else None
        if cfg.head == "mlm":  # transform, then a decoder tied to the token embeddings plus its own bias
            self.mlm_transform = nn.Linear(C, C)
            self.mlm_norm = nn.LayerNorm(C, eps=cfg.norm_eps)
            self.mlm_bias = nn.Parameter(torch.zeros(cfg.vocab_size))
            self.mlm_act = activation(cfg.hidden_act)
        if cfg.head == "classification":
            self.classifier = nn.Linear(C, cfg.num_labels)
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])

    def encode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Last hidden states (B, T, C)."""
        T = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        positions = torch.arange(T, device=input_ids.device)  # (T,)
        x = self.tok_embed(input_ids) + self.pos_embed(positions) + self.type_embed(token_type_ids)  # (B, T, C)
        x = self.dropout(self.embed_norm(x))
        mask = None
        if attention_mask is not None and not bool(attention_mask.all()):
            mask = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T): keys that may be attended to
        for block in self.layers:
            x = block(x, mask)
        return x

    def pool(self, hidden: torch.Tensor) -> torch.Tensor:
        """BERT pooled output (B, C): tanh of a projection of the first ([CLS]) position."""
        return torch.tanh(self.pooler(hidden[:, 0]))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        hidden = self.encode(input_ids, attention_mask, token_type_ids)  # (B, T, C)
        head = self.config.head
        if head == "mlm":
            h = self.mlm_norm(self.mlm_act(self.mlm_transform(hidden)))  # (B, T, C)
            return F.linear(h, self.tok_embed.weight, self.mlm_bias)  # (B, T, V)
        if head == "classification":
            return self.classifier(self.dropout(self.pool(hidden)))  # (B, num_labels)
        return hidden

    def num_params(self, *, matmul_only: bool = False) -> int:
        total = sum(p.numel() for p in self.parameters())
        if matmul_only:  # lookups cost no matmul; the MLM decoder reuses tok_embed as a matmul
            lookups = self.pos_embed.weight.numel() + self.type_embed.weight.numel()
            total -= lookups + (0 if self.config.head == "mlm" else self.tok_embed.weight.numel())
        return total

    def flops_per_token(self, seq_len: int) -> float:
        cfg = self.config
        return 6 * self.num_params(matmul_only=True) + 12 * cfg.num_layers * cfg.hidden_size * seq_len
