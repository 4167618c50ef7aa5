"""LoRA: only adapters change, merge/unmerge are exact, the adapter saves and loads on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from training_runner.core.decoder import Decoder, DecoderConfig
from training_runner.core.errors import ConfigError
from training_runner.core.lora import (
    LoRALinear,
    apply_lora,
    load_adapter,
    lora_layers,
    merge_lora,
    save_adapter,
    unmerge_lora,
)
from training_runner.core.model import save_pretrained

TARGETS = ["q_proj", "v_proj", "down_proj"]


def base_model(arch: str = "llama") -> Decoder:
    torch.manual_seed(0)
    cfg = DecoderConfig(arch=arch, vocab_size=71, hidden_size=32, num_layers=2, num_heads=4, max_position_embeddings=64)
    return Decoder(cfg).eval()


def ids(seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 71, (2, 16), generator=torch.Generator().manual_seed(seed))


def train_adapters(model: Decoder, steps: int = 5) -> None:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    for step in range(steps):
        batch = ids(step)
        logits = model(batch[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()


def test_training_changes_only_the_adapters() -> None:
    model = base_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        plain = model(ids())
    adapted = apply_lora(model, target_modules=TARGETS, rank=4, alpha=8.0, dropout=0.0)
    assert adapted == [
        f"layers.{i}.{name}" for i in range(2) for name in ("attn.q_proj", "attn.v_proj", "mlp.down_proj")
    ]
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == sorted(f"{name}.lora_{m}" for name in adapted for m in "AB")
    with torch.no_grad():
        assert torch.equal(model(ids()), plain)  # B starts at zero: a fresh adapter changes nothing
    train_adapters(model)
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())  # every base tensor, bit for bit
    assert all(not torch.equal(layer.lora_B, torch.zeros_like(layer.lora_B)) for layer in lora_layers(model).values())


def test_merge_matches_the_adapter_and_unmerge_restores_exactly() -> None:
    model = base_model()
    apply_lora(model, target_modules=TARGETS, rank=4, alpha=8.0, dropout=0.0)
    train_adapters(model)
    originals = {n: layer.weight.detach().clone() for n, layer in lora_layers(model).items()}
    with torch.no_grad():
        adapted = model(ids(9))
        merge_lora(model)
        merged = model(ids(9))
    for name, layer in lora_layers(model).items():
        assert layer.merged
        assert torch.equal(layer.weight, originals[name] + layer.delta_weight())
    assert (adapted - merged).abs().max().item() <= 1e-5
    unmerge_lora(model)
    assert all(torch.equal(layer.weight, originals[n]) for n, layer in lora_layers(model).items())
    with torch.no_grad():
        assert torch.equal(model(ids(9)), adapted)


def test_adapter_saves_alone_and_loads_onto_a_fresh_base(tmp_path: Path) -> None:
    model = base_model()
    apply_lora(model, target_modules=TARGETS, rank=4, alpha=8.0, dropout=0.05)
    train_adapters(model)
    save_adapter(model, tmp_path, base_model="org/base")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    tensors = load_file(tmp_path / "adapter_model.safetensors")
    assert len(tensors) == 12  # A and B for 3 layers × 2 blocks: the base weights are not in the file
    assert "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" in tensors
    assert tensors["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"].shape == (32, 4)
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert (config["peft_type"], config["r"], config["lora_alpha"], config["base_model_name_or_path"]) == (
        "LORA",
        4,
        8.0,
        "org/base",
    )
    assert config["target_modules"][0] == "model.layers.0.mlp.down_proj"
    fresh = base_model()
    load_adapter(fresh, tmp_path)
    with torch.no_grad():
        assert torch.equal(fresh(ids(3)), model(ids(3)))


def test_merged_model_saves_in_transformers_layout(tmp_path: Path) -> None:
    model = base_model()
    apply_lora(model, target_modules=["all-linear"], rank=2, alpha=2.0, dropout=0.0)
    assert len(lora_layers(model)) == 14  # 7 linear layers per block; the output head is left alone
    train_adapters(model, steps=3)
    with pytest.raises(ValueError, match="unmerged LoRA adapters"):
        save_pretrained(model, tmp_path)
    merge_lora(model)
    save_pretrained(model, tmp_path)
    ref = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert (ref(ids(4)).logits - model(ids(4))).abs().max().item() <= 1e-5


def test_gpt2_adapters_use_conv1d_names(tmp_path: Path) -> None:
    model = base_model("gpt2")
    apply_lora(model, target_modules=["o_proj", "up_proj"], rank=2, alpha=4.0, dropout=0.0)
    save_adapter(model, tmp_path, base_model=None)
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config["fan_in_fan_out"] is True
    assert config["target_modules"] == [
        "transformer.h.0.attn.c_proj",
        "transformer.h.0.mlp.c_fc",
        "transformer.h.1.attn.c_proj",
        "transformer.h.1.mlp.c_fc",
    ]


def test_bad_targets_name_the_allowed_layers() -> None:
    with pytest.raises(ConfigError) as info:
        apply_lora(base_model(), target_modules=["qkv"], rank=2, alpha=2.0, dropout=0.0)
    assert str(info.value) == (
        "lora.target_modules: ['qkv'] match no linear layer; allowed values: 'down_proj', 'gate_proj', 'k_proj', "
        "'lm_head', 'o_proj', 'q_proj', 'up_proj', 'v_proj', 'all-linear'"
    )
    model = base_model("gpt2")
    apply_lora(model, target_modules=["q_proj"], rank=2, alpha=2.0, dropout=0.0)
    with pytest.raises(ConfigError, match=r"\['q_proj'\] are stored fused"):
        save_adapter(model, Path("unused"), base_model=None)


def test_lora_linear_keeps_the_base_parameters() -> None:
    base = torch.nn.Linear(8, 4)
    layer = LoRALinear(base, rank=2, alpha=4.0, dropout=0.0)
    assert layer.weight is base.weight
    assert layer.bias is base.bias
    assert layer.scaling == 2.0


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_peft_loads_our_adapter_and_gives_the_same_logits(tmp_path: Path, arch: str) -> None:
    """The PEFT layout is real: ``peft`` reads the adapter onto the transformers base model and
    computes what the training core computes with the adapter applied."""
    from peft import PeftModel

    model = base_model(arch)
    save_pretrained(model, tmp_path / "base")  # the base, before the adapter wraps its layers
    targets = TARGETS if arch == "llama" else ["o_proj", "up_proj"]
    apply_lora(model, target_modules=targets, rank=4, alpha=8.0, dropout=0.0)
    train_adapters(model)
    save_adapter(model, tmp_path / "adapter", base_model=str(tmp_path / "base"))
    base = AutoModelForCausalLM.from_pretrained(tmp_path / "base").eval()
    with torch.no_grad():
        plain = base(ids(5)).logits
    peft_model = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    wrapped = [name for name, _ in peft_model.named_modules() if name.endswith(".lora_A")]
    assert len(wrapped) == len(lora_layers(model)) == (6 if arch == "llama" else 4)
    with torch.no_grad():
        ours, theirs = model(ids(5)), peft_model(ids(5)).logits
    assert (theirs - plain).abs().max().item() > 1e-3  # the adapter changes the output…
    assert (theirs - ours).abs().max().item() <= 1e-5  # …exactly as ours does
