"""Build, load and save our models in the ``transformers`` directory layout.

``load_pretrained(path)`` reads ``config.json`` + ``model.safetensors`` (or a sharded
``model.safetensors.index.json``) written by ``transformers`` for the ``llama``, ``gpt2`` and
``bert`` model types, and returns a ``Decoder`` or an ``Encoder``. ``save_pretrained`` writes the
same files back, so ``AutoModelForCausalLM.from_pretrained`` (or ``AutoModel`` for BERT) loads
them. Weights are only ever read from safetensors: no pickle.

``Decoder.forward(input_ids (B, T), attention_mask (B, T) | None)`` returns the logits tensor
(B, T, V) directly; ``model.config.max_position_embeddings`` is the context length.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from . import hf_format
from .decoder import Decoder, DecoderConfig
from .encoder import Encoder, EncoderConfig
from .lora import lora_layers

Model = Decoder | Encoder

# Keys a checkpoint may lack when it is loaded under a new head: these start from fresh weights.
FRESH_HEAD_PREFIXES = {"classification": ("classifier.", "pooler."), "mlm": ("mlm_",)}


def build_model(cfg: DecoderConfig | EncoderConfig) -> Model:
    return Decoder(cfg) if isinstance(cfg, DecoderConfig) else Encoder(cfg)


def read_config(path: str | Path, *, head: str | None = None) -> DecoderConfig | EncoderConfig:
    return hf_format.config_from_hf(json.loads((Path(path) / "config.json").read_text()), head=head)


def read_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """All tensors of ``model.safetensors`` or of the shards its index lists."""
    path = Path(path)
    index = path / "model.safetensors.index.json"
    if index.exists():
        state = {}
        for shard in sorted(set(json.loads(index.read_text())["weight_map"].values())):
            state.update(load_file(path / shard))
        return state
    return load_file(path / "model.safetensors")


def load_pretrained(
    path: str | Path,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    head: str | None = None,
    id2label: dict[int, str] | None = None,
) -> Model:
    """Our model from a transformers-layout directory.

    ``head`` (BERT only) loads the encoder under another head than the checkpoint's: a bare
    ``BertModel`` becomes a classifier, whose new weights start from the usual initialisation
    (``id2label`` names its labels). Any other missing or unexpected tensor is an error.
    """
    hf_config = json.loads((Path(path) / "config.json").read_text())
    cfg = hf_format.config_from_hf(hf_config, head=head)
    if isinstance(cfg, EncoderConfig) and id2label is not None:
        cfg.id2label, cfg.num_labels = dict(id2label), len(id2label)
        cfg.__post_init__()
    with torch.device("meta"):
        model = build_model(cfg)
    links = hf_format.decoder_links(cfg) if isinstance(cfg, DecoderConfig) else hf_format.encoder_links(cfg)
    head_name = cfg.head if isinstance(cfg, EncoderConfig) else "lm"
    hf_state = hf_format.normalize_hf_keys(read_safetensors(path), hf_config["model_type"], head_name)
    if isinstance(cfg, DecoderConfig) and cfg.tie_word_embeddings:
        hf_state.pop("lm_head.weight", None)  # some exports store the tied head twice
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    state, missing, unexpected = hf_format.from_hf_state(hf_state, links, shapes)
    fresh = FRESH_HEAD_PREFIXES.get(head_name, ()) if head is not None else ()
    missing_required = [k for k in missing if not k.startswith(fresh)]
    if missing_required or unexpected:
        raise ValueError(f"{path}: missing tensors {missing_required[:8]}, unexpected tensors {unexpected[:8]}")
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=False, assign=True)
    _materialize_fresh(model, missing, dtype)
    if isinstance(model, Decoder):
        model.tie_weights()
    return model.to(device).eval()


def _materialize_fresh(model: Model, missing: list[str], dtype: torch.dtype) -> None:
    """Give the layers of a newly added head real (not meta) tensors, initialised as in a new model."""
    for name in sorted({key.rpartition(".")[0] for key in missing} - {""}):
        module = model.get_submodule(name)  # a Linear or a LayerNorm
        module.to_empty(device="cpu")
        module.reset_parameters()
        model._init_weights(module)
        module.to(dtype)
    if "mlm_bias" in missing:
        model.mlm_bias = nn.Parameter(torch.zeros(model.config.vocab_size, dtype=dtype))


def hf_state_dict(model: Model) -> dict[str, torch.Tensor]:
    """The model's weights under transformers names (what ``model.safetensors`` holds)."""
    if any(not layer.merged for layer in lora_layers(model).values()):
        raise ValueError("the model holds unmerged LoRA adapters: merge them (lora.merge_lora) before saving")
    state = {k: v for k, v in model.state_dict().items() if ".lora_" not in k}  # merged adapters live in the weights
    cfg = model.config
    links = hf_format.decoder_links(cfg) if isinstance(cfg, DecoderConfig) else hf_format.encoder_links(cfg)
    return hf_format.to_hf_state(state, links)


def hf_config_dict(model: Model) -> dict:
    dtype = next(model.parameters()).dtype
    if isinstance(model.config, DecoderConfig):
        return hf_format.decoder_config_to_hf(model.config, dtype)
    return hf_format.encoder_config_to_hf(model.config, dtype)


def save_pretrained(model: Model, path: str | Path) -> None:
    """Write ``config.json``, ``model.safetensors`` and (decoders) ``generation_config.json``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model = getattr(model, "module", model)  # DDP / compile wrappers hold the real model in .module
    tensors = {k: v.detach().cpu() for k, v in hf_state_dict(model).items()}
    save_file(tensors, path / "model.safetensors", metadata={"format": "pt"})
    (path / "config.json").write_text(json.dumps(hf_config_dict(model), indent=2, sort_keys=True) + "\n")
    if isinstance(model, Decoder):
        write_generation_config(model.config, path)


def write_generation_config(cfg: DecoderConfig, path: Path, **sampling) -> None:
    """``generation_config.json``: the special token ids plus optional sampling defaults."""
    body = {"bos_token_id": cfg.bos_token_id, "eos_token_id": cfg.eos_token_id, "pad_token_id": cfg.pad_token_id}
    body.update(sampling)
    (path / "generation_config.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
