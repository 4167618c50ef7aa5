"""Typed configs: validation errors that name the key and the allowed values; the recipe YAML files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from training_runner.__main__ import main
from training_runner.core.config import RECIPES, TrainConfig, apply_overrides, check_pretrained_arch
from training_runner.core.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[3] / "training_runner" / "configs"
COMMON_SECTIONS = ("model", "tokenizer", "data", "optim", "train", "card")
OWN_SECTION = {"pretrain_mlm": "mlm", "sft": "sft", "classify": "classify", "lora": "lora"}


def minimal(**sections) -> dict:
    return {"recipe": "pretrain_clm", "data": {"path": "corpus"}, **sections}


def error_of(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(data)
    return str(info.value)


def test_minimal_config_takes_the_defaults() -> None:
    cfg = TrainConfig.from_dict(minimal())
    assert cfg.train.precision == "auto"
    assert cfg.optim.lr == 3e-4
    assert cfg.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.to_dict()["data"]["path"] == "corpus"


def test_bad_choice_names_key_and_allowed_values() -> None:
    message = error_of(minimal(train={"precision": "fp16"}))
    assert message == "train.precision: 'fp16' is not allowed; allowed values: 'auto', 'fp32', 'bf16'"
    message = error_of({"recipe": "rlhf", "data": {"path": "x"}})
    assert message == (
        "recipe: 'rlhf' is not allowed; allowed values: 'pretrain_clm', 'pretrain_mlm', 'sft', 'classify', 'lora'"
    )
    assert error_of(minimal(lora={"objective": "dpo"})) == (
        "lora.objective: 'dpo' is not allowed; allowed values: 'sft', 'clm'"
    )


def test_recipe_and_architecture_must_agree() -> None:
    assert error_of({"recipe": "classify", "data": {"path": "x"}}) == (
        "model.arch: 'llama' is not allowed; allowed values: 'bert'"
    )
    assert error_of(minimal(model={"arch": "bert"})) == (
        "model.arch: 'bert' is not allowed; allowed values: 'llama', 'gpt2'"
    )
    assert error_of({"recipe": "lora", "data": {"path": "x"}}) == (
        "model.source: 'scratch' is not allowed; allowed values: 'pretrained'"
    )


def test_unknown_keys_and_wrong_types_are_named() -> None:
    message = error_of(minimal(train={"max_step": 10}))
    assert message.startswith("train.max_step: unknown key; allowed keys: max_steps, batch_size,")
    assert error_of(minimal(optim={"lr": "fast"})) == "optim.lr: expected float, got 'fast'"
    assert error_of(minimal(train={"batch_size": 0})) == (
        "train.batch_size: 0 is not allowed; allowed values: numbers > 0"
    )
    assert error_of(minimal(train={"compile": "yes"})) == "train.compile: expected bool, got 'yes'"
    assert error_of(minimal(card={"datasets": "wiki"})) == "card.datasets: expected a list, got 'wiki'"
    assert error_of({"recipe": "sft"}) == "data: required key is missing"
    assert error_of(minimal(mlm={"mask_prob": 1.5})) == (
        "mlm.mask_prob: 1.5 is not allowed; allowed values: numbers in [0, 1]"
    )


def test_integers_are_accepted_for_float_keys() -> None:
    assert TrainConfig.from_dict(minimal(optim={"lr": 1})).optim.lr == 1.0
    assert TrainConfig.from_dict(minimal(optim={"lr": "1e-3"})).optim.lr == 0.001  # YAML 1.1 reads 1e-3 as text


def test_overrides_set_nested_keys_from_yaml_values() -> None:
    data = apply_overrides(minimal(), ["optim.lr=1e-3", "card.datasets=[a, b]", "train.compile=true", "seed=7"])
    cfg = TrainConfig.from_dict(data)
    assert (cfg.optim.lr, cfg.card.datasets, cfg.train.compile, cfg.seed) == (1e-3, ["a", "b"], True, 7)
    with pytest.raises(ConfigError, match="overrides take the form key=value"):
        apply_overrides({}, ["optim.lr"])


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_yaml_loads_and_comments_every_key(recipe: str) -> None:
    path = CONFIGS / f"{recipe}.yaml"
    cfg = TrainConfig.from_yaml(path)
    assert cfg.recipe == recipe
    key_line = re.compile(r"^\s*([A-Za-z_]+):")
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if key_line.match(line):
            assert "#" in line, f"{path.name}:{number} has no comment: {line!r}"
    data = yaml.safe_load(path.read_text())
    for section in (*COMMON_SECTIONS, OWN_SECTION.get(recipe)):
        if section is None:
            continue
        fields = [f.name for f in dataclasses.fields(getattr(cfg, section))]
        assert list(data[section]) == fields, f"{path.name}: section {section} must list every key in order"


def test_cli_reports_a_bad_config_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = CONFIGS / "pretrain_clm.yaml"
    code = main(["train", str(config), "--set", "train.precision=fp8", "--output-dir", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err == (
        "config error: train.precision: 'fp8' is not allowed; allowed values: 'auto', 'fp32', 'bf16'\n"
    )


def test_card_metadata_cannot_override_the_indexed_card_keys() -> None:
    assert error_of(minimal(card={"metadata": {"license": "mit", "x": 1}})) == (
        "card.metadata: set license through their own card keys"
    )


def test_a_pretrained_model_must_suit_the_recipe() -> None:
    check_pretrained_arch("sft", "llama")
    check_pretrained_arch("classify", "bert")
    with pytest.raises(ConfigError) as error:
        check_pretrained_arch("lora", "bert")
    assert str(error.value) == "model.path: recipe 'lora' needs one of 'llama', 'gpt2' models, not 'bert'"
