"""The ``transformers`` file layout: config.json keys and safetensors weight names.

Our modules use short names of their own; this file is the one place that knows the Llama,
GPT-2 and BERT layouts. A ``WeightLink`` ties one or more of our tensors to one of theirs, which
makes the mapping usable in both directions:

- several of ours → one of theirs: concatenated along the output dimension (GPT-2's fused
  ``c_attn`` holds query, key and value);
- ``conv1d``: GPT-2 stores linear weights as ``(in, out)`` (its ``Conv1D``), ours are ``(out, in)``.

Config quirks handled here: transformers 5 writes ``dtype`` and ``rope_parameters`` (with
``rope_theta`` inside); version 4 wrote ``torch_dtype``, ``rope_theta`` and ``rope_scaling``. We read
both and write both, so files we save load in either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .decoder import DecoderConfig
from .encoder import EncoderConfig
from .errors import ConfigError, check_choice

MODEL_TYPES = ("llama", "gpt2", "bert")

# Tensors some checkpoints carry that are not weights (buffers) or that duplicate a tied weight.
# Matched on whole name components: "attn.bias" is GPT-2's mask buffer, "c_attn.bias" a real weight.
IGNORED_SUFFIXES = (
    "attn.bias",  # GPT-2's causal-mask buffer
    "attn.masked_bias",
    "embeddings.position_ids",  # BERT's int64 position buffer (the MiniLM checkpoint has one)
    "rotary_emb.inv_freq",  # old Llama checkpoints
    "cls.predictions.decoder.weight",  # tied to the word embeddings
    "cls.predictions.decoder.bias",  # the same tensor as cls.predictions.bias
)
IGNORED_PREFIXES = ("cls.seq_relationship.",)  # BERT's next-sentence head (pre-training checkpoints)


@dataclass(frozen=True)
class WeightLink:
    ours: tuple[str, ...]
    theirs: str
    conv1d: bool = False


def _linear(ours: str, theirs: str, *, bias: bool, conv1d: bool = False) -> list[WeightLink]:
    links = [WeightLink((f"{ours}.weight",), f"{theirs}.weight", conv1d)]
    if bias:
        links.append(WeightLink((f"{ours}.bias",), f"{theirs}.bias"))
    return links


def _norm(ours: str, theirs: str, *, bias: bool) -> list[WeightLink]:
    return _linear(ours, theirs, bias=bias)


def decoder_links(cfg: DecoderConfig) -> list[WeightLink]:
    if cfg.arch == "gpt2":
        return _gpt2_links(cfg)
    links = [WeightLink(("embed_tokens.weight",), "model.embed_tokens.weight")]
    for i in range(cfg.num_layers):
        ours, theirs = f"layers.{i}", f"model.layers.{i}"
        links += _norm(f"{ours}.attn_norm", f"{theirs}.input_layernorm", bias=False)
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            links += _linear(f"{ours}.attn.{proj}", f"{theirs}.self_attn.{proj}", bias=cfg.attention_bias)
        links += _norm(f"{ours}.mlp_norm", f"{theirs}.post_attention_layernorm", bias=False)
        for proj in ("gate_proj", "up_proj", "down_proj"):
            links += _linear(f"{ours}.mlp.{proj}", f"{theirs}.mlp.{proj}", bias=cfg.mlp_bias)
    links += _norm("norm", "model.norm", bias=False)
    if not cfg.tie_word_embeddings:
        links.append(WeightLink(("lm_head.weight",), "lm_head.weight"))
    return links


def _gpt2_links(cfg: DecoderConfig) -> list[WeightLink]:
    links = [
        WeightLink(("embed_tokens.weight",), "transformer.wte.weight"),
        WeightLink(("embed_positions.weight",), "transformer.wpe.weight"),
    ]
    for i in range(cfg.num_layers):
        ours, theirs = f"layers.{i}", f"transformer.h.{i}"
        links += _norm(f"{ours}.attn_norm", f"{theirs}.ln_1", bias=True)
        for part in ("weight", "bias"):
            qkv = tuple(f"{ours}.attn.{p}_proj.{part}" for p in "qkv")
            links.append(WeightLink(qkv, f"{theirs}.attn.c_attn.{part}", conv1d=part == "weight"))
        links += _linear(f"{ours}.attn.o_proj", f"{theirs}.attn.c_proj", bias=True, conv1d=True)
        links += _norm(f"{ours}.mlp_norm", f"{theirs}.ln_2", bias=True)
        links += _linear(f"{ours}.mlp.up_proj", f"{theirs}.mlp.c_fc", bias=True, conv1d=True)
        links += _linear(f"{ours}.mlp.down_proj", f"{theirs}.mlp.c_proj", bias=True, conv1d=True)
    links += _norm("norm", "transformer.ln_f", bias=True)
    if not cfg.tie_word_embeddings:
        links.append(WeightLink(("lm_head.weight",), "lm_head.weight"))
    return links


def encoder_links(cfg: EncoderConfig) -> list[WeightLink]:
    # Head models nest the backbone under "bert."; the bare BertModel does not.
    p = "" if cfg.head == "base" else "bert."
    links = [
        WeightLink(("tok_embed.weight",), f"{p}embeddings.word_embeddings.weight"),
        WeightLink(("pos_embed.weight",), f"{p}embeddings.position_embeddings.weight"),
        WeightLink(("type_embed.weight",), f"{p}embeddings.token_type_embeddings.weight"),
        *_norm("embed_norm", f"{p}embeddings.LayerNorm", bias=True),
    ]
    for i in range(cfg.num_layers):
        ours, theirs = f"layers.{i}", f"{p}encoder.layer.{i}"
        for proj, name in (("q_proj", "query"), ("k_proj", "key"), ("v_proj", "value")):
            links += _linear(f"{ours}.attn.{proj}", f"{theirs}.attention.self.{name}", bias=True)
        links += _linear(f"{ours}.attn.o_proj", f"{theirs}.attention.output.dense", bias=True)
        links += _norm(f"{ours}.attn_norm", f"{theirs}.attention.output.LayerNorm", bias=True)
        links += _linear(f"{ours}.up_proj", f"{theirs}.intermediate.dense", bias=True)
        links += _linear(f"{ours}.down_proj", f"{theirs}.output.dense", bias=True)
        links += _norm(f"{ours}.mlp_norm", f"{theirs}.output.LayerNorm", bias=True)
    if cfg.head in ("base", "classification"):
        links += _linear("pooler", f"{p}pooler.dense", bias=True)
    if cfg.head == "mlm":
        links += _linear("mlm_transform", "cls.predictions.transform.dense", bias=True)
        links += _norm("mlm_norm", "cls.predictions.transform.LayerNorm", bias=True)
        links.append(WeightLink(("mlm_bias",), "cls.predictions.bias"))
    if cfg.head == "classification":
        links += _linear("classifier", "classifier", bias=True)
    return links


# ----------------------------------------------------------------------------- weights


def to_hf_state(state: dict[str, torch.Tensor], links: list[WeightLink]) -> dict[str, torch.Tensor]:
    """Our state dict → theirs. Tensors are made contiguous (safetensors needs it)."""
    out = {}
    for link in links:
        tensor = torch.cat([state[k] for k in link.ours], dim=0) if len(link.ours) > 1 else state[link.ours[0]]
        if link.conv1d:
            tensor = tensor.t()
        out[link.theirs] = tensor.contiguous()
    return out


def normalize_hf_keys(hf_state: dict[str, torch.Tensor], model_type: str, head: str) -> dict[str, torch.Tensor]:
    """Drop buffers and tied duplicates; add the prefix that older exports leave out; rename gamma/beta."""
    state = {}
    for key, tensor in hf_state.items():
        if f".{key}".endswith(tuple(f".{s}" for s in IGNORED_SUFFIXES)) or key.startswith(IGNORED_PREFIXES):
            continue
        key = key.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
        state[key] = tensor
    if model_type == "gpt2" and "wte.weight" in state:  # the original GPT-2 files have no "transformer."
        state = {(k if k.startswith("lm_head.") else f"transformer.{k}"): v for k, v in state.items()}
    if model_type == "bert":
        nested = any(k.startswith("bert.") for k in state)
        if head == "base" and nested:  # a head checkpoint loaded as the bare encoder
            state = {k.removeprefix("bert."): v for k, v in state.items() if k.startswith("bert.")}
        elif head != "base" and not nested:  # a bare encoder loaded under a new head
            heads = ("cls.", "classifier.")
            state = {(k if k.startswith(heads) else f"bert.{k}"): v for k, v in state.items()}
    return state


def from_hf_state(
    hf_state: dict[str, torch.Tensor], links: list[WeightLink], shapes: dict[str, torch.Size]
) -> tuple[dict[str, torch.Tensor], list[str], list[str]]:
    """Theirs → ours. Returns (state, our keys missing from the file, file keys nothing took)."""
    state, missing = {}, []
    used = set()
    for link in links:
        if link.theirs not in hf_state:
            missing.extend(link.ours)
            continue
        tensor = hf_state[link.theirs]
        used.add(link.theirs)
        if link.conv1d:
            tensor = tensor.t()
        sizes = [shapes[k][0] for k in link.ours]
        parts = torch.split(tensor, sizes, dim=0) if len(link.ours) > 1 else (tensor,)
        for key, part in zip(link.ours, parts, strict=True):
            if part.shape != shapes[key]:
                raise ValueError(f"{link.theirs}: shape {tuple(part.shape)} does not fit {key} {tuple(shapes[key])}")
            state[key] = part.contiguous()
    unexpected = sorted(set(hf_state) - used)
    return state, missing, unexpected


# ----------------------------------------------------------------------------- config.json


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
