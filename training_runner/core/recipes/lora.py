"""Recipe ``lora``: low-rank adapters on a pretrained decoder; only the adapters train.

``lora.objective`` picks the data: ``sft`` (conversations, prompt tokens masked) or ``clm`` (plain
text, packed). Output: the adapter alone in PEFT layout (``adapter_model.safetensors`` +
``adapter_config.json``), under ``adapter/`` next to the merged full model when
``lora.save_merged`` (the default), at the output root otherwise.
"""

from __future__ import annotations

from pathlib import Path

from ..config import TrainConfig
from ..export import export_model, write_model_card
from ..lora import apply_lora, check_adapter_layout, merge_lora, save_adapter, unmerge_lora
from . import common
from .common import Parts, Recipe, RunContext


def build(ctx: RunContext, resume_from: Path | None) -> Parts:
    cfg = ctx.cfg
    if cfg.lora.objective == "sft":
        chats = common.conversations(cfg)
        corpus = common.chat_texts(chats["train"])
    else:
        texts = common.corpus_texts(cfg)
        corpus = texts["train"]
    tokenizer = common.build_tokenizer(cfg, corpus, resume_from=resume_from, kind="decoder")
    model = common.build_run_model(cfg, tokenizer)
    lora = cfg.lora
    adapted = apply_lora(
        model, target_modules=lora.target_modules, rank=lora.rank, alpha=lora.alpha, dropout=lora.dropout
    )
    check_adapter_layout(model, adapted)
    if lora.objective == "sft":
        objective = common.chat_objective(ctx, tokenizer, chats)
    else:
        objective = common.causal_objective(ctx, tokenizer, texts)
    return Parts(tokenizer, model, objective)


def export(ctx: RunContext, parts: Parts, metrics: dict[str, float]) -> None:
    cfg, out = ctx.cfg, ctx.output_dir
    base = cfg.card.base_model or cfg.model.path
    if cfg.lora.save_merged:
        save_adapter(parts.model, out / "adapter", base_model=base)
        merge_lora(parts.model)
        export_model(out, model=parts.model, tokenizer=parts.tokenizer, cfg=cfg, metrics=metrics)
        unmerge_lora(parts.model)
    else:
        save_adapter(parts.model, out, base_model=base)
        parts.tokenizer.save(out)
        write_model_card(out, cfg, parts.model, metrics, name=cfg.card.model_name or out.resolve().name)


def recipe(cfg: TrainConfig, **options) -> Recipe:
    return Recipe(cfg, build=build, export=export, **options)
