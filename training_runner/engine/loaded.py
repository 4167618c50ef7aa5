"""A model directory loaded for inference: the training core's model, its tokenizer, and its task.

Only the architectures the training core implements load (Llama and GPT-2 decoders, BERT
encoders), and only from safetensors: a directory with nothing but pickle weights is refused with
a message saying so, never unpickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from training_runner.core.decoder import Decoder
from training_runner.core.encoder import Encoder
from training_runner.core.errors import ConfigError
from training_runner.core.hf_format import MODEL_TYPES
from training_runner.core.model import load_pretrained
from training_runner.core.tokenizer import Tokenizer, load_tokenizer

from .errors import UnsupportedModel

TEXT_GENERATION = "text-generation"
FILL_MASK = "fill-mask"
TEXT_CLASSIFICATION = "text-classification"
FEATURE_EXTRACTION = "feature-extraction"
ENCODER_TASKS = {"mlm": FILL_MASK, "classification": TEXT_CLASSIFICATION, "base": FEATURE_EXTRACTION}


@dataclass
class LoadedModel:
    """What the engine keeps per loaded ``repo@sha``."""

    key: str
    model: Decoder | Encoder
    tokenizer: Tokenizer
    task: str
    eos_ids: list[int]
    nbytes: int

    @property
    def context_length(self) -> int:
        return int(self.model.config.max_position_embeddings)

    def require(self, task: str) -> None:
        """Refuse an operation the model's head cannot do, naming what it can do."""
        if self.task != task:
            raise UnsupportedModel(f"this model does {self.task}, not {task}")


def model_nbytes(model: torch.nn.Module) -> int:
    tensors = {id(t): t for t in (*model.parameters(), *model.buffers())}
    return sum(t.numel() * t.element_size() for t in tensors.values())


def _eos_ids(path: Path, model: Decoder, tokenizer: Tokenizer) -> list[int]:
    """Stop ids as ``transformers`` reads them: generation_config.json, then config.json, then the tokenizer."""
    generation = path / "generation_config.json"
    value = json.loads(generation.read_text()).get("eos_token_id") if generation.exists() else None
    if value is None:
        value = model.config.eos_token_id
    if value is None:
        value = tokenizer.eos_token_id
    ids = [value] if isinstance(value, int) else list(value or [])
    return [int(i) for i in ids]


def load_model_dir(path: str | Path, *, key: str, device: str = "cpu") -> LoadedModel:
    """Load ``path`` (config.json, safetensors weights, tokenizer.json) for serving."""
    path = Path(path)
    config_file = path / "config.json"
    if not config_file.is_file():
        raise UnsupportedModel("the model has no config.json")
    try:
        model_type = json.loads(config_file.read_text()).get("model_type")
    except (ValueError, AttributeError):
        raise UnsupportedModel("config.json is not a JSON object") from None
    if model_type not in MODEL_TYPES:
        supported = ", ".join(MODEL_TYPES)
        raise UnsupportedModel(f"architecture {model_type!r} is not supported; the engine runs {supported}")
    if not (path / "model.safetensors").is_file() and not (path / "model.safetensors.index.json").is_file():
        raise UnsupportedModel("the model has no safetensors weights (pickle files are never loaded)")
    if not (path / "tokenizer.json").is_file():
        raise UnsupportedModel("the model has no tokenizer.json")
    try:
        tokenizer = load_tokenizer(path)
        model = load_pretrained(path, device=device)
    except (ConfigError, ValueError, KeyError, OSError) as exc:
        raise UnsupportedModel(f"the model cannot be loaded: {exc}") from None
    model.eval().requires_grad_(False)
    if isinstance(model, Decoder):
        task, eos = TEXT_GENERATION, _eos_ids(path, model, tokenizer)
    else:
        task, eos = ENCODER_TASKS[model.config.head], []
    return LoadedModel(key=key, model=model, tokenizer=tokenizer, task=task, eos_ids=eos, nbytes=model_nbytes(model))
