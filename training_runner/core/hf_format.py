"""The ``transformers`` file layout: config.json keys and safetensors weight names.

Our modules use short names of their own; this file is the one place that knows the Llama,
GPT-2 and BERT layouts. A ``WeightLink`` ties one or more of our tensors to one of theirs, which
makes the mapping usable in both directions:

- several of ours → one of theirs: concatenated along the output dimension (GPT-2's fused
  ``c_attn`` holds query, key and value);
- ``conv1d``: GPT-2 stores linear weights as ``(in, out)`` (its ``Conv1D``), ours are ``(out, in)``.

``config.json`` is read and written by ``hf_config.py`` (no PyTorch there), re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .decoder import DecoderConfig
from .encoder import EncoderConfig
from .hf_config import (  # noqa: F401  (config.json, without PyTorch; their home before)
    ENCODER_ARCHITECTURES,
    MODEL_TYPES,
    config_from_hf,
    decoder_config_from_hf,
    decoder_config_to_hf,
    encoder_config_from_hf,
    encoder_config_to_hf,
    encoder_head_from_hf,
)

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
