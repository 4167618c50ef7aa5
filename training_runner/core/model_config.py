"""The sizes and switches of the two model families, without PyTorch: ``DecoderConfig`` (Llama and
GPT-2 decoders, ``decoder.py``) and ``EncoderConfig`` (BERT encoders, ``encoder.py``), checked when
made. Code that only reads or checks a configuration (the hub's run submissions, in a web process)
imports this module and ``hf_config.py``, never PyTorch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, check_choice, check_fraction, check_positive

ARCHS = ("llama", "gpt2")
ACTIVATIONS = ("silu", "gelu", "gelu_new", "gelu_pytorch_tanh")
ROPE_TYPES = ("default", "linear", "llama3")


@dataclass
class DecoderConfig:
    """Sizes and switches of a decoder. ``None`` fields take the family's default in ``__post_init__``."""

    arch: str = "llama"
    vocab_size: int = 32000
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int | None = None  # None: as many as query heads (no grouping)
    head_dim: int | None = None  # None: hidden_size // num_heads
    intermediate_size: int | None = None  # None: ~8/3·C rounded up to 32 (llama), 4·C (gpt2)
    max_position_embeddings: int = 2048
    norm_eps: float = 1e-5
    hidden_act: str | None = None  # None: "silu" (llama), "gelu_new" (gpt2, the tanh approximation)
    rope_theta: float = 10000.0
    rope_scaling: dict[str, Any] | None = None  # {"rope_type": "linear" | "llama3", "factor": ..., ...}
    attention_bias: bool | None = None  # None: False (llama), True (gpt2)
    mlp_bias: bool | None = None  # None: False (llama), True (gpt2)
    tie_word_embeddings: bool = False
    dropout: float = 0.0
    initializer_range: float = 0.02
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    pad_token_id: int | None = None

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)
        gpt2 = self.arch == "gpt2"
        for key in ("vocab_size", "hidden_size", "num_layers", "num_heads", "max_position_embeddings"):
            check_positive(key, getattr(self, key))
        if self.num_kv_heads is None:
            self.num_kv_heads = self.num_heads
        if self.head_dim is None:
            if self.hidden_size % self.num_heads:
                raise ConfigError("num_heads", f"{self.num_heads} does not divide hidden_size {self.hidden_size}")
            self.head_dim = self.hidden_size // self.num_heads
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size if gpt2 else 32 * math.ceil(8 * self.hidden_size / 3 / 32)
        if self.hidden_act is None:
            self.hidden_act = "gelu_new" if gpt2 else "silu"
        if self.attention_bias is None:
            self.attention_bias = gpt2
        if self.mlp_bias is None:
            self.mlp_bias = gpt2
        check_positive("num_kv_heads", self.num_kv_heads)
        if self.num_heads % self.num_kv_heads:
            raise ConfigError("num_kv_heads", f"{self.num_kv_heads} does not divide num_heads {self.num_heads}")
        check_positive("head_dim", self.head_dim)
        if self.head_dim % 2 and not gpt2:
            raise ConfigError("head_dim", f"{self.head_dim} must be even for rotary embeddings")
        check_positive("intermediate_size", self.intermediate_size)
        check_positive("norm_eps", self.norm_eps)
        check_positive("rope_theta", self.rope_theta)
        check_choice("hidden_act", self.hidden_act, ACTIVATIONS)
        check_fraction("dropout", self.dropout, closed=False)
        if gpt2:
            # GPT-2 checkpoints always carry these; anything else would not round-trip.
            check_choice("num_kv_heads", self.num_kv_heads, (self.num_heads,))
            check_choice("head_dim", self.head_dim * self.num_heads, (self.hidden_size,))
            check_choice("attention_bias", self.attention_bias, (True,))
            check_choice("mlp_bias", self.mlp_bias, (True,))
        if self.rope_scaling is not None:
            check_choice("rope_scaling.rope_type", self.rope_scaling.get("rope_type"), ROPE_TYPES)

    @property
    def uses_rope(self) -> bool:
        return self.arch == "llama"


HEADS = ("base", "mlm", "classification")
ENCODER_ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh")


@dataclass
class EncoderConfig:
    vocab_size: int = 30522
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int | None = None  # None: 4·C
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    norm_eps: float = 1e-12
    hidden_act: str = "gelu"
    dropout: float = 0.1
    attention_dropout: float = 0.1
    initializer_range: float = 0.02
    pad_token_id: int = 0
    head: str = "base"
    num_labels: int = 2
    id2label: dict[int, str] | None = None  # classification label names; None: LABEL_0, LABEL_1, ...

    def __post_init__(self) -> None:
        for key in ("vocab_size", "hidden_size", "num_layers", "num_heads", "max_position_embeddings"):
            check_positive(key, getattr(self, key))
        check_positive("type_vocab_size", self.type_vocab_size)
        if self.hidden_size % self.num_heads:
            raise ConfigError("num_heads", f"{self.num_heads} does not divide hidden_size {self.hidden_size}")
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size
        check_positive("intermediate_size", self.intermediate_size)
        check_choice("hidden_act", self.hidden_act, ENCODER_ACTIVATIONS)
        check_choice("head", self.head, HEADS)
        check_fraction("dropout", self.dropout, closed=False)
        check_fraction("attention_dropout", self.attention_dropout, closed=False)
        check_positive("num_labels", self.num_labels)
        if self.id2label is None:
            self.id2label = {i: f"LABEL_{i}" for i in range(self.num_labels)}
        self.id2label = {int(k): v for k, v in self.id2label.items()}
        if sorted(self.id2label) != list(range(self.num_labels)):
            raise ConfigError("id2label", f"keys must be 0..{self.num_labels - 1}, got {sorted(self.id2label)}")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads
