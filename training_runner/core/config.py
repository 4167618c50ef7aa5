"""``TrainConfig``: one typed, validated dataclass per run, built from a recipe's YAML file.

Each section validates itself in ``__post_init__``; ``TrainConfig.from_dict`` checks key names and
value types and reports errors with the full dotted key (``optim.lr``), the value, and what is
allowed. ``apply_overrides`` implements the CLI's ``--set key=value`` (values parsed as YAML).
The YAML files in ``training_runner/configs/`` document every key.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, check_choice, check_fraction, check_positive

RECIPES = ("pretrain_clm", "pretrain_mlm", "sft", "classify", "lora")
DECODER_ARCHS = ("llama", "gpt2")
ENCODER_ARCHS = ("bert",)
ENCODER_RECIPES = ("pretrain_mlm", "classify")


def check_pretrained_arch(recipe: str, model_type: str) -> None:
    """A pretrained model's ``model_type`` (its config.json) must suit the recipe: encoders for
    masked-LM pretraining and classification, decoders for the rest."""
    allowed = ENCODER_ARCHS if recipe in ENCODER_RECIPES else DECODER_ARCHS
    if model_type not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise ConfigError("model.path", f"recipe {recipe!r} needs one of {names} models, not {model_type!r}")


@dataclass
class ModelSection:
    source: str = "scratch"  # "scratch": new weights from the sizes below; "pretrained": load `path`
    path: str | None = None  # transformers-layout model directory (config.json + model.safetensors)
    arch: str = "llama"  # scratch models: llama | gpt2 | bert
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int | None = None  # None: one key/value head per query head
    intermediate_size: int | None = None  # None: the family default
    max_position_embeddings: int = 256
    tie_word_embeddings: bool = True
    dropout: float = 0.0
    rope_theta: float = 10000.0

    def __post_init__(self) -> None:
        check_choice("source", self.source, ("scratch", "pretrained"))
        if self.source == "pretrained" and not self.path:
            raise ConfigError("path", "required when source is 'pretrained'")
        check_choice("arch", self.arch, DECODER_ARCHS + ENCODER_ARCHS)
        for key in ("hidden_size", "num_layers", "num_heads", "max_position_embeddings", "rope_theta"):
            check_positive(key, getattr(self, key))
        check_positive("num_kv_heads", self.num_kv_heads, optional=True)
        check_positive("intermediate_size", self.intermediate_size, optional=True)
        check_fraction("dropout", self.dropout, closed=False)


@dataclass
class TokenizerSection:
    source: str = "train"  # train (byte-level BPE on the training split) | file | gpt2 | model
    path: str | None = None  # source "file": a tokenizer.json or a directory holding one
    vocab_size: int = 4096  # source "train" only
    min_frequency: int = 2  # source "train": merges seen fewer times are not learned

    def __post_init__(self) -> None:
        check_choice("source", self.source, ("train", "file", "gpt2", "model"))
        if self.source == "file" and not self.path:
            raise ConfigError("path", "required when source is 'file'")
        check_positive("vocab_size", self.vocab_size)
        check_positive("min_frequency", self.min_frequency)


@dataclass
class DataSection:
    path: str = ""  # dataset directory (a dataset repository snapshot)
    text_field: str = "text"  # column holding the text in .jsonl / .parquet files
    txt_mode: str = "blank_line"  # how .txt files split into documents: blank_line | line | file
    seq_len: int = 128  # tokens per training sequence
    val_fraction: float = 0.05  # held out by content hash when the snapshot has no validation files
    cache_dir: str | None = None  # token shards; None: <output_dir>/data_cache

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("path", "required: the dataset directory")
        check_choice("txt_mode", self.txt_mode, ("blank_line", "line", "file"))
        check_positive("seq_len", self.seq_len)
        check_fraction("val_fraction", self.val_fraction, closed=False)


@dataclass
class OptimSection:
    lr: float = 3e-4  # peak learning rate
    min_lr_ratio: float = 0.1  # cosine decay ends at lr × min_lr_ratio
    warmup_steps: int = 10  # linear warm-up from 0
    weight_decay: float = 0.1  # decoupled (AdamW); not applied to norms, biases and embeddings
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping

    def __post_init__(self) -> None:
        check_positive("lr", self.lr)
        check_fraction("min_lr_ratio", self.min_lr_ratio)
        check_positive("warmup_steps", self.warmup_steps, allow_zero=True)
        check_positive("weight_decay", self.weight_decay, allow_zero=True)
        check_fraction("beta1", self.beta1, closed=False)
        check_fraction("beta2", self.beta2, closed=False)
        check_positive("eps", self.eps)
        check_positive("grad_clip", self.grad_clip, allow_zero=True)


@dataclass
class TrainSection:
    max_steps: int = 100  # optimizer steps
    batch_size: int = 8  # sequences per micro-batch per process
    grad_accum_steps: int = 1  # micro-batches per optimizer step
    eval_interval: int = 50  # steps between validations; 0: only at the end
    eval_batches: int = 20  # validation batches per evaluation; 0: the whole split
    log_interval: int = 10  # steps between printed log lines (metrics go to the callback every step)
    checkpoint_interval: int = 0  # steps between checkpoints; 0: only when stopped early
    keep_checkpoints: int = 2  # newest checkpoints kept
    device: str = "auto"  # auto (cuda when present) | cpu | cuda
    precision: str = "auto"  # auto (bf16 autocast on cuda, fp32 elsewhere) | fp32 | bf16
    compile: bool = False  # torch.compile the model
    peak_flops: float | None = None  # device peak FLOP/s for MFU; None: known GPUs only

    def __post_init__(self) -> None:
        for key in ("max_steps", "batch_size", "grad_accum_steps", "keep_checkpoints"):
            check_positive(key, getattr(self, key))
        for key in ("eval_interval", "eval_batches", "log_interval", "checkpoint_interval"):
            check_positive(key, getattr(self, key), allow_zero=True)
        check_choice("device", self.device, ("auto", "cpu", "cuda"))
        check_choice("precision", self.precision, ("auto", "fp32", "bf16"))
        check_positive("peak_flops", self.peak_flops, optional=True)


@dataclass
class MLMSection:
    mask_prob: float = 0.15  # share of tokens chosen for prediction
    mask_token_prob: float = 0.8  # of those: replaced by the mask token
    random_token_prob: float = 0.1  # of those: replaced by a random token (the rest stay as they are)

    def __post_init__(self) -> None:
        check_fraction("mask_prob", self.mask_prob)
        check_fraction("mask_token_prob", self.mask_token_prob)
        check_fraction("random_token_prob", self.random_token_prob)
        if self.mask_token_prob + self.random_token_prob > 1:
            raise ConfigError("random_token_prob", "mask_token_prob + random_token_prob must be at most 1")


@dataclass
class SFTSection:
    messages_field: str = "messages"  # list of {"role", "content"} turns
    prompt_field: str = "prompt"  # used when a record has no messages: one user turn ...
    completion_field: str = "completion"  # ... and one assistant turn


@dataclass
class ClassifySection:
    text_field: str = "text"
    label_field: str = "label"
    labels: list[str] | None = None  # label names in id order; None: sorted distinct training labels


@dataclass
class LoRASection:
    rank: int = 8
    alpha: float = 16.0  # the update is scaled by alpha / rank
    dropout: float = 0.0  # on the adapter's input
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])  # or ["all-linear"]
    objective: str = "sft"  # sft (chat data, prompt tokens masked) | clm (plain text)
    save_merged: bool = True  # also write the merged full model at the output root

    def __post_init__(self) -> None:
        check_positive("rank", self.rank)
        check_positive("alpha", self.alpha)
        check_fraction("dropout", self.dropout, closed=False)
        check_choice("objective", self.objective, ("sft", "clm"))
        if not self.target_modules:
            raise ConfigError("target_modules", "at least one module name is required")


@dataclass
class GenerationSection:
    temperature: float = 0.8  # written to generation_config.json as the model's sampling defaults
    top_k: int = 50
    top_p: float = 0.95
    max_new_tokens: int = 128

    def __post_init__(self) -> None:
        check_positive("temperature", self.temperature, allow_zero=True)
        check_positive("top_k", self.top_k, allow_zero=True)
        check_fraction("top_p", self.top_p)
        check_positive("max_new_tokens", self.max_new_tokens)


@dataclass
class CardSection:
    model_name: str | None = None  # None: the output directory's name
    license: str = "apache-2.0"
    datasets: list[str] = field(default_factory=list)  # dataset repository ids used for training
    base_model: str | None = None  # None: model.path when fine-tuning
    language: list[str] = field(default_factory=lambda: ["en"])
    tags: list[str] = field(default_factory=list)
    repo_id: str | None = None  # repository the model is published to (the card's loading snippet uses it)
    run_url: str | None = None  # page of the run that trained the model, linked from the card
    metadata: dict[str, Any] = field(default_factory=dict)  # extra front-matter keys (e.g. pinned inputs)

    def __post_init__(self) -> None:
        reserved = {"license", "language", "library_name", "pipeline_tag", "tags", "datasets", "base_model"}
        clash = sorted(reserved & set(self.metadata))
        if clash:
            raise ConfigError("metadata", f"set {', '.join(clash)} through their own card keys")


@dataclass
class TrainConfig:
    recipe: str
    data: DataSection
    seed: int = 1337
    output_dir: str | None = None  # the CLI's default output directory
    model: ModelSection = field(default_factory=ModelSection)
    tokenizer: TokenizerSection = field(default_factory=TokenizerSection)
    optim: OptimSection = field(default_factory=OptimSection)
    train: TrainSection = field(default_factory=TrainSection)
    mlm: MLMSection = field(default_factory=MLMSection)
    sft: SFTSection = field(default_factory=SFTSection)
    classify: ClassifySection = field(default_factory=ClassifySection)
    lora: LoRASection = field(default_factory=LoRASection)
    generation: GenerationSection = field(default_factory=GenerationSection)
    card: CardSection = field(default_factory=CardSection)

    def __post_init__(self) -> None:
        check_choice("recipe", self.recipe, RECIPES)
        wants_encoder = self.recipe in ENCODER_RECIPES
        if self.model.source == "scratch":
            allowed = ENCODER_ARCHS if wants_encoder else DECODER_ARCHS
            check_choice("model.arch", self.model.arch, allowed)
        if self.recipe == "lora":
            check_choice("model.source", self.model.source, ("pretrained",))
        if self.tokenizer.source == "model":
            check_choice("model.source", self.model.source, ("pretrained",))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return _build(cls, data, "")

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: list[str] = ()) -> TrainConfig:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return cls.from_dict(apply_overrides(data, overrides))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``["optim.lr=1e-3", "card.datasets=[a, b]"]`` applied to a copy of ``data`` (values are YAML)."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(item, "overrides take the form key=value")
        *parents, leaf = key.strip().split(".")
        node = data
        for name in parents:
            node = node.setdefault(name, {})
            if not isinstance(node, dict):
                raise ConfigError(key, f"{name!r} is not a section")
        node[leaf] = yaml.safe_load(raw)
    return data


def _type_name(annotation) -> str:
    return getattr(annotation, "__name__", str(annotation))


def _convert(key: str, value: Any, annotation) -> Any:
    """Check ``value`` against a field annotation (int, float, bool, str, list[...], X | None, sections)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(key, value, inner)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a section (mapping), got {value!r}")
        return _build(annotation, value, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list, got {value!r}")
        return [_convert(f"{key}[{i}]", v, args[0]) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {value!r}")
        return value
    if annotation is float and isinstance(value, str):
        value = _yaml_float(value)  # YAML 1.1 reads "1e-3" (no dot) as a string
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(annotation)
    if not ok:
        raise ConfigError(key, f"expected {_type_name(annotation)}, got {value!r}")
    return float(value) if annotation is float else value


def _yaml_float(text: str) -> float | str:
    number = re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text.strip())
    return float(text) if number else text


def _build(cls, data: dict[str, Any], prefix: str):
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    where = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
    for key in data:
        if key not in names:
            raise ConfigError(where(str(key)), f"unknown key; allowed keys: {', '.join(names)}")
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for name in required:
        if name not in data:
            raise ConfigError(where(name), "required key is missing")
    values = {name: _convert(where(name), value, hints[name]) for name, value in data.items()}
    try:
        return cls(**values)
    except ConfigError as exc:
        raise (exc.under(prefix) if prefix else exc) from None
