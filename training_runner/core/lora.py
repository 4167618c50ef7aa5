"""LoRA adapters on any linear layers: add, merge, unmerge, save and load the adapter alone.

A ``LoRALinear`` is an ``nn.Linear`` that keeps the frozen base weight under its usual name and
adds two trainable factors, ``lora_A`` (r, in) and ``lora_B`` (out, r):
``y = x Wᵀ + b + (α / r) · dropout(x) Aᵀ Bᵀ``. B starts at zero, so a fresh adapter changes nothing.

Saved adapters use the PEFT file layout (``adapter_config.json`` + ``adapter_model.safetensors``
with ``base_model.model.<transformers module path>.lora_A.weight``), so they sit in a model
repository next to the base model's name the usual way.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from . import hf_format
from .decoder import Decoder
from .errors import ConfigError

ALL_LINEAR = "all-linear"


class LoRALinear(nn.Linear):
    def __init__(self, base: nn.Linear, *, rank: int, alpha: float, dropout: float) -> None:
        super().__init__(base.in_features, base.out_features, bias=base.bias is not None, device="meta")
        self.weight, self.bias = base.weight, base.bias  # the base layer's own (frozen) parameters
        device, dtype = base.weight.device, base.weight.dtype
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features, device=device, dtype=dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, device=device, dtype=dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as nn.Linear initialises its weight
        self.rank, self.alpha, self.scaling = rank, alpha, alpha / rank
        self.lora_dropout = nn.Dropout(dropout)
        self.merged = False
        self._base_weight: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight, self.bias)  # (..., out)
        if self.merged:
            return y
        update = F.linear(F.linear(self.lora_dropout(x), self.lora_A), self.lora_B)  # (..., r) → (..., out)
        return y + update * self.scaling

    def delta_weight(self) -> torch.Tensor:
        """The adapter as a dense update of the weight: (α / r) · B A, shape (out, in)."""
        return (self.lora_B @ self.lora_A) * self.scaling

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into the weight. The base weight is kept aside so ``unmerge`` is exact."""
        if not self.merged:
            self._base_weight = self.weight.detach().clone()
            self.weight.add_(self.delta_weight().to(self.weight.dtype))
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        if self.merged:
            self.weight.copy_(self._base_weight)
            self._base_weight = None
            self.merged = False

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, rank={self.rank}, alpha={self.alpha}, merged={self.merged}"


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def linear_names(model: nn.Module) -> list[str]:
    return sorted({name.rsplit(".", 1)[-1] for name, m in model.named_modules() if isinstance(m, nn.Linear)})


def apply_lora(model: nn.Module, *, target_modules: list[str], rank: int, alpha: float, dropout: float) -> list[str]:
    """Freeze every parameter and wrap the targeted linear layers; returns their module names.

    ``target_modules`` holds layer names (``q_proj``, ``down_proj``, ...) or ``"all-linear"``
    (every linear layer but the output head, which is often the tied embedding).
    """
    for param in model.parameters():
        param.requires_grad_(False)
    everything = ALL_LINEAR in target_modules
    chosen = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear)
        and not isinstance(module, LoRALinear)
        and (name.rsplit(".", 1)[-1] in target_modules or (everything and name != "lm_head"))
    ]
    if not chosen:
        allowed = ", ".join(repr(n) for n in [*linear_names(model), ALL_LINEAR])
        raise ConfigError("lora.target_modules", f"{target_modules} match no linear layer; allowed values: {allowed}")
    if isinstance(model, Decoder) and model.config.tie_word_embeddings and "lm_head" in chosen:
        raise ConfigError("lora.target_modules", "'lm_head' is tied to the embeddings here and cannot take an adapter")
    for name in chosen:
        _wrap(model, name, rank=rank, alpha=alpha, dropout=dropout)
    return chosen


def _wrap(model: nn.Module, name: str, *, rank: int, alpha: float, dropout: float) -> LoRALinear:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    layer = LoRALinear(getattr(parent, child), rank=rank, alpha=alpha, dropout=dropout)
    layer.train(parent.training)  # a new module starts in training mode; follow the model's mode
    setattr(parent, child, layer)
    return layer


def merge_lora(model: nn.Module) -> None:
    for layer in lora_layers(model).values():
        layer.merge()


def unmerge_lora(model: nn.Module) -> None:
    for layer in lora_layers(model).values():
        layer.unmerge()


# ----------------------------------------------------------------------------- adapter files


def _hf_module_paths(model: nn.Module) -> dict[str, tuple[str, bool]]:
    """Our module name → (transformers module path, stored transposed) for one-to-one weights."""
    cfg = model.config
    links = hf_format.decoder_links(cfg) if isinstance(model, Decoder) else hf_format.encoder_links(cfg)
    paths = {}
    for link in links:
        if len(link.ours) == 1 and link.ours[0].endswith(".weight") and link.theirs.endswith(".weight"):
            paths[link.ours[0].removesuffix(".weight")] = (link.theirs.removesuffix(".weight"), link.conv1d)
    return paths


def check_adapter_layout(model: nn.Module, names: list[str]) -> None:
    """Adapters must sit on layers stored one-to-one in the transformers layout (not GPT-2's fused c_attn)."""
    paths = _hf_module_paths(model)
    fused = sorted({n.rsplit(".", 1)[-1] for n in names if n not in paths})
    if fused:
        raise ConfigError("lora.target_modules", f"{fused} are stored fused in this model's files; adapt other layers")


def save_adapter(model: nn.Module, path: str | Path, *, base_model: str | None, task_type: str = "CAUSAL_LM") -> Path:
    """Write only the adapter: ``adapter_model.safetensors`` and ``adapter_config.json`` (PEFT layout)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    layers = lora_layers(model)
    if not layers:
        raise ValueError("the model has no LoRA layers")
    check_adapter_layout(model, list(layers))
    paths = _hf_module_paths(model)
    tensors = {}
    for name, layer in layers.items():
        theirs = paths[name][0]
        tensors[f"base_model.model.{theirs}.lora_A.weight"] = layer.lora_A.detach().cpu().contiguous()
        tensors[f"base_model.model.{theirs}.lora_B.weight"] = layer.lora_B.detach().cpu().contiguous()
    first = next(iter(layers.values()))
    config = {
        "peft_type": "LORA",
        "task_type": task_type,
        "base_model_name_or_path": base_model,
        "r": first.rank,
        "lora_alpha": first.alpha,
        "lora_dropout": first.lora_dropout.p,
        "target_modules": sorted(paths[name][0] for name in layers),
        "fan_in_fan_out": any(paths[name][1] for name in layers),  # GPT-2 Conv1D weights
        "bias": "none",
        "inference_mode": True,
        "init_lora_weights": True,
        "modules_to_save": None,
        "use_rslora": False,
        "use_dora": False,
    }
    save_file(tensors, path / "adapter_model.safetensors", metadata={"format": "pt"})
    (path / "adapter_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return path


def load_adapter(model: nn.Module, path: str | Path) -> list[str]:
    """Add the adapter saved at ``path`` to ``model`` (its base); returns the adapted module names."""
    path = Path(path)
    config = json.loads((path / "adapter_config.json").read_text())
    paths = _hf_module_paths(model)
    ours_of = {theirs: ours for ours, (theirs, _) in paths.items()}
    targets = [ours_of[t] for t in config["target_modules"]]
    for param in model.parameters():
        param.requires_grad_(False)
    for name in targets:
        _wrap(model, name, rank=config["r"], alpha=config["lora_alpha"], dropout=config["lora_dropout"])
    tensors = load_file(path / "adapter_model.safetensors")
    with torch.no_grad():
        for name in targets:
            layer, theirs = model.get_submodule(name), paths[name][0]
            layer.lora_A.copy_(tensors[f"base_model.model.{theirs}.lora_A.weight"])
            layer.lora_B.copy_(tensors[f"base_model.model.{theirs}.lora_B.weight"])
    return targets
