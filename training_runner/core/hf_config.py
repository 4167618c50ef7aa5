"""``config.json`` of the ``transformers`` layouts (Llama, GPT-2, BERT) to and from our
``DecoderConfig`` / ``EncoderConfig``, without PyTorch (``hf_format.py`` holds the weight names and
re-exports these).

Config quirks handled here: transformers 5 writes ``dtype`` and ``rope_parameters`` (with
``rope_theta`` inside); version 4 wrote ``torch_dtype``, ``rope_theta`` and ``rope_scaling``. We read
both and write both, so files we save load in either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ConfigError, check_choice
from .model_config import DecoderConfig, EncoderConfig

if TYPE_CHECKING:
    import torch

MODEL_TYPES = ("llama", "gpt2", "bert")


def _rope_parameters(hf: dict[str, Any]) -> tuple[float, dict[str, Any] | None]:
    params = hf.get("rope_parameters") or hf.get("rope_scaling") or {}
    theta = params.get("rope_theta", hf.get("rope_theta", 10000.0))
    kind = params.get("rope_type", params.get("type", "default"))
    if kind == "default":
        return float(theta), None
    scaling = {k: v for k, v in params.items() if k not in ("rope_theta", "type")}
    scaling["rope_type"] = kind
    return float(theta), scaling


def _shared_decoder_keys(hf: dict[str, Any]) -> dict[str, Any]:
    """Keys the Llama and GPT-2 configs spell the same way."""
    return {
        "vocab_size": hf["vocab_size"],
        "initializer_range": hf.get("initializer_range", 0.02),
        "bos_token_id": hf.get("bos_token_id"),
        "eos_token_id": hf.get("eos_token_id"),
        "pad_token_id": hf.get("pad_token_id"),
    }


def decoder_config_from_hf(hf: dict[str, Any]) -> DecoderConfig:
    model_type = hf.get("model_type")
    if model_type == "gpt2":
        for key, required in (
            ("scale_attn_weights", True),
            ("scale_attn_by_inverse_layer_idx", False),
            ("reorder_and_upcast_attn", False),
            ("add_cross_attention", False),
        ):
            check_choice(key, hf.get(key, required), (required,))
        return DecoderConfig(
            arch="gpt2",
            hidden_size=hf["n_embd"],
            num_layers=hf["n_layer"],
            num_heads=hf["n_head"],
            intermediate_size=hf.get("n_inner") or 4 * hf["n_embd"],
            max_position_embeddings=hf["n_positions"],
            norm_eps=hf.get("layer_norm_epsilon", 1e-5),
            hidden_act=hf.get("activation_function", "gelu_new"),
            tie_word_embeddings=hf.get("tie_word_embeddings", True),
            dropout=hf.get("resid_pdrop", 0.0),
            **_shared_decoder_keys(hf),
        )
    theta, scaling = _rope_parameters(hf)
    return DecoderConfig(
        arch="llama",
        hidden_size=hf["hidden_size"],
        num_layers=hf["num_hidden_layers"],
        num_heads=hf["num_attention_heads"],
        num_kv_heads=hf.get("num_key_value_heads"),
        head_dim=hf.get("head_dim"),
        intermediate_size=hf["intermediate_size"],
        max_position_embeddings=hf.get("max_position_embeddings", 2048),
        norm_eps=hf.get("rms_norm_eps", 1e-6),
        hidden_act=hf.get("hidden_act", "silu"),
        rope_theta=theta,
        rope_scaling=scaling,
        attention_bias=hf.get("attention_bias", False),
        mlp_bias=hf.get("mlp_bias", False),
        tie_word_embeddings=hf.get("tie_word_embeddings", False),
        dropout=hf.get("attention_dropout", 0.0),
        **_shared_decoder_keys(hf),
    )


def decoder_config_to_hf(cfg: DecoderConfig, dtype: torch.dtype) -> dict[str, Any]:
    common = {
        "vocab_size": cfg.vocab_size,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "initializer_range": cfg.initializer_range,
        "bos_token_id": cfg.bos_token_id,
        "eos_token_id": cfg.eos_token_id,
        "pad_token_id": cfg.pad_token_id,
        **_dtype_keys(dtype),
        "use_cache": True,
    }
    if cfg.arch == "gpt2":
        return {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "n_embd": cfg.hidden_size,
            "n_layer": cfg.num_layers,
            "n_head": cfg.num_heads,
            "n_inner": cfg.intermediate_size,
            "n_positions": cfg.max_position_embeddings,
            "activation_function": cfg.hidden_act,
            "layer_norm_epsilon": cfg.norm_eps,
            "resid_pdrop": cfg.dropout,
            "embd_pdrop": cfg.dropout,
            "attn_pdrop": cfg.dropout,
            "scale_attn_weights": True,
            "scale_attn_by_inverse_layer_idx": False,
            "reorder_and_upcast_attn": False,
            **common,
        }
    rope = {"rope_type": "default", **(cfg.rope_scaling or {}), "rope_theta": cfg.rope_theta}
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_heads,
        "num_key_value_heads": cfg.num_kv_heads,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.max_position_embeddings,
        "rms_norm_eps": cfg.norm_eps,
        "hidden_act": cfg.hidden_act,
        "attention_bias": cfg.attention_bias,
        "attention_dropout": cfg.dropout,
        "mlp_bias": cfg.mlp_bias,
        "pretraining_tp": 1,
        "rope_parameters": rope,  # transformers 5
        "rope_theta": cfg.rope_theta,  # transformers 4
        "rope_scaling": cfg.rope_scaling,  # transformers 4 (None: plain RoPE)
        **common,
    }


ENCODER_ARCHITECTURES = {
    "base": "BertModel",
    "mlm": "BertForMaskedLM",
    "classification": "BertForSequenceClassification",
}


def encoder_head_from_hf(hf: dict[str, Any]) -> str:
    architecture = (hf.get("architectures") or ["BertModel"])[0]
    if architecture in ("BertForMaskedLM", "BertForPreTraining"):
        return "mlm"
    if architecture == "BertForSequenceClassification":
        return "classification"
    return "base"


def encoder_config_from_hf(hf: dict[str, Any], *, head: str | None = None) -> EncoderConfig:
    check_choice("position_embedding_type", hf.get("position_embedding_type", "absolute"), ("absolute",))
    check_choice("is_decoder", hf.get("is_decoder", False), (False,))
    id2label = hf.get("id2label")
    return EncoderConfig(
        vocab_size=hf["vocab_size"],
        hidden_size=hf["hidden_size"],
        num_layers=hf["num_hidden_layers"],
        num_heads=hf["num_attention_heads"],
        intermediate_size=hf["intermediate_size"],
        max_position_embeddings=hf["max_position_embeddings"],
        type_vocab_size=hf.get("type_vocab_size", 2),
        norm_eps=hf.get("layer_norm_eps", 1e-12),
        hidden_act=hf.get("hidden_act", "gelu"),
        dropout=hf.get("hidden_dropout_prob", 0.1),
        attention_dropout=hf.get("attention_probs_dropout_prob", 0.1),
        initializer_range=hf.get("initializer_range", 0.02),
        pad_token_id=hf.get("pad_token_id") or 0,
        head=head or encoder_head_from_hf(hf),
        num_labels=len(id2label) if id2label else hf.get("num_labels", 2),
        id2label=id2label,
    )


def encoder_config_to_hf(cfg: EncoderConfig, dtype: torch.dtype) -> dict[str, Any]:
    out = {
        "architectures": [ENCODER_ARCHITECTURES[cfg.head]],
        "model_type": "bert",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_heads,
        "intermediate_size": cfg.intermediate_size,
        "hidden_act": cfg.hidden_act,
        "hidden_dropout_prob": cfg.dropout,
        "attention_probs_dropout_prob": cfg.attention_dropout,
        "max_position_embeddings": cfg.max_position_embeddings,
        "type_vocab_size": cfg.type_vocab_size,
        "initializer_range": cfg.initializer_range,
        "layer_norm_eps": cfg.norm_eps,
        "pad_token_id": cfg.pad_token_id,
        "position_embedding_type": "absolute",
        "tie_word_embeddings": True,
        **_dtype_keys(dtype),
    }
    if cfg.head == "classification":
        out["id2label"] = {str(i): name for i, name in cfg.id2label.items()}
        out["label2id"] = {name: i for i, name in cfg.id2label.items()}
        out["problem_type"] = "single_label_classification"
    return out


def _dtype_keys(dtype: torch.dtype) -> dict[str, str]:
    name = str(dtype).removeprefix("torch.")
    return {"dtype": name, "torch_dtype": name}  # transformers 5 reads the first, version 4 the second


def config_from_hf(hf: dict[str, Any], *, head: str | None = None) -> DecoderConfig | EncoderConfig:
    """Our config for a transformers config.json (``head`` re-targets a BERT checkpoint)."""
    model_type = hf.get("model_type")
    check_choice("model_type", model_type, MODEL_TYPES)
    try:
        if model_type == "bert":
            return encoder_config_from_hf(hf, head=head)
        return decoder_config_from_hf(hf)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0]), "missing from config.json") from None
