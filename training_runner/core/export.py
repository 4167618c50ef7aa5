"""The output directory of a run: ready to commit to a model repository on the hub.

``config.json``, ``model.safetensors``, ``generation_config.json`` (decoders), ``tokenizer.json``
(+ its config files), and ``README.md``: a model card whose YAML front matter holds
``base_model``, ``datasets``, ``license``, ``pipeline_tag``, ``hyperparameters`` and the final
``metrics``, followed by a short human-readable description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .config import TrainConfig
from .decoder import Decoder
from .model import Model, save_pretrained, write_generation_config
from .tokenizer import CHAT_TOKENS, Tokenizer

PIPELINE_TAGS = {"base": "feature-extraction", "mlm": "fill-mask", "classification": "text-classification"}


def pipeline_tag(model: Model) -> str:
    return "text-generation" if isinstance(model, Decoder) else PIPELINE_TAGS[model.config.head]


def hyperparameters(cfg: TrainConfig) -> dict[str, Any]:
    hp = {
        "recipe": cfg.recipe,
        "seed": cfg.seed,
        "max_steps": cfg.train.max_steps,
        "batch_size": cfg.train.batch_size,
        "grad_accum_steps": cfg.train.grad_accum_steps,
        "seq_len": cfg.data.seq_len,
        "learning_rate": cfg.optim.lr,
        "min_lr_ratio": cfg.optim.min_lr_ratio,
        "warmup_steps": cfg.optim.warmup_steps,
        "weight_decay": cfg.optim.weight_decay,
        "betas": [cfg.optim.beta1, cfg.optim.beta2],
        "grad_clip": cfg.optim.grad_clip,
        "precision": cfg.train.precision,
        "optimizer": "AdamW",
        "lr_schedule": "linear warmup + cosine",
    }
    if cfg.recipe == "pretrain_mlm":
        hp["mask_prob"] = cfg.mlm.mask_prob
    if cfg.recipe == "lora":
        hp.update(lora_rank=cfg.lora.rank, lora_alpha=cfg.lora.alpha, lora_target_modules=list(cfg.lora.target_modules))
    return hp


# Metrics reported in ``model-index`` (the Hub's structured results) when a run produced them.
INDEXED_METRICS = {
    "val_loss": "Validation loss",
    "val_bpb": "Validation bits per byte",
    "val_accuracy": "Validation accuracy",
}


def _repo_id_like(value: str) -> bool:
    """True for ``name`` or ``namespace/name``; local paths never go into a card's ``base_model``."""
    parts = value.split("/")
    return 1 <= len(parts) <= 2 and all(part and not part.startswith(".") for part in parts) and "\\" not in value


def card_metadata(cfg: TrainConfig, model: Model, metrics: dict[str, float]) -> dict[str, Any]:
    """The card's YAML: what a registry indexes (license, task, datasets, base model), the
    hyper-parameters, the final metrics, and the headline metrics as ``model-index`` results.

    ``base_model`` names a repository: ``card.base_model`` when set, else ``model.path`` only when
    it looks like a repository id (a local directory would be refused by the registry).
    """
    base = cfg.card.base_model
    if base is None and cfg.model.source == "pretrained" and cfg.model.path and _repo_id_like(cfg.model.path):
        base = cfg.model.path
    meta: dict[str, Any] = {
        "license": cfg.card.license,
        "language": list(cfg.card.language),
        "library_name": "transformers",
        "pipeline_tag": pipeline_tag(model),
        "tags": ["llm-hub", cfg.recipe, *cfg.card.tags],
        "datasets": list(cfg.card.datasets),
    }
    if base:
        meta["base_model"] = base
    meta.update(cfg.card.metadata)
    meta["hyperparameters"] = hyperparameters(cfg)
    meta["final_metrics"] = {k: round(float(v), 6) for k, v in metrics.items()}
    results = [
        {"type": key, "name": label, "value": round(float(metrics[key]), 6)}
        for key, label in INDEXED_METRICS.items()
        if key in metrics
    ]
    if results:
        dataset = (cfg.card.datasets or ["unknown"])[0]
        meta["model-index"] = [
            {
                "name": cfg.card.model_name or "model",
                "results": [
                    {
                        "task": {"type": meta["pipeline_tag"]},
                        "dataset": {"type": dataset, "name": dataset, "split": "validation"},
                        "metrics": results,
                    }
                ],
            }
        ]
    return meta


def write_model_card(path: Path, cfg: TrainConfig, model: Model, metrics: dict[str, float], *, name: str) -> None:
    meta = card_metadata(cfg, model, metrics)
    mc = model.config
    arch = mc.arch if isinstance(model, Decoder) else f"bert ({mc.head} head)"
    size = f"{model.num_params() / 1e6:.2f}M parameters, {mc.num_layers} layers, hidden size {mc.hidden_size}"
    rows = "\n".join(
        f"| {k} | {int(v)} |" if float(v).is_integer() and abs(v) >= 1000 else f"| {k} | {v:.4f} |"
        for k, v in meta["final_metrics"].items()
    )
    loader = "AutoModelForCausalLM" if isinstance(model, Decoder) else "AutoModel"
    location = cfg.card.repo_id or str(path)
    run = f"\n- Training run: {cfg.card.run_url}" if cfg.card.run_url else ""
    body = f"""# {name}

Trained with the hub's training core, recipe `{cfg.recipe}`.

- Architecture: {arch}; {size}.
- Datasets: {", ".join(meta["datasets"]) or "not declared"}.
- Base model: {meta.get("base_model", "none (trained from scratch)")}.{run}

## Final metrics

| metric | value |
|---|---|
{rows}

## Use

```python
from transformers import {loader}, AutoTokenizer

model = {loader}.from_pretrained("{location}")
tokenizer = AutoTokenizer.from_pretrained("{location}")
```
"""
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    (path / "README.md").write_text(f"---\n{front}---\n\n{body}")


def stop_token_ids(tokenizer: Tokenizer) -> list[int]:
    """Ids that end a reply: eos, plus the ChatML end-of-turn marker when the vocabulary has it."""
    ids = [tokenizer.eos_token_id, tokenizer.token_to_id(CHAT_TOKENS[1])]
    return [i for i in dict.fromkeys(ids) if i is not None]


def export_model(
    path: Path, *, model: Model, tokenizer: Tokenizer, cfg: TrainConfig, metrics: dict[str, float]
) -> Path:
    """Write the full output directory (weights, configs, tokenizer, model card) into ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    save_pretrained(model, path)
    if isinstance(model, Decoder):
        g = cfg.generation
        write_generation_config(
            model.config,
            path,
            do_sample=g.temperature > 0,
            temperature=g.temperature,
            top_k=g.top_k,
            top_p=g.top_p,
            max_new_tokens=g.max_new_tokens,
            eos_token_id=stop_token_ids(tokenizer),
        )
    tokenizer.save(path)
    write_model_card(path, cfg, model, metrics, name=cfg.card.model_name or path.resolve().name)
    return path
