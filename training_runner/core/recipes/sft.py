"""Recipe ``sft``: supervised fine-tuning of a decoder on conversations.

Each record is a ``messages`` list (``{"role", "content"}`` turns) or a prompt/completion pair.
The tokenizer's chat template renders it; only assistant replies (and their end marker) carry
loss, prompt tokens are masked out.
"""

from __future__ import annotations

from pathlib import Path

from ..config import TrainConfig
from .common import (
    Parts,
    Recipe,
    RunContext,
    build_run_model,
    build_tokenizer,
    chat_objective,
    chat_texts,
    conversations,
)


def build(ctx: RunContext, resume_from: Path | None) -> Parts:
    chats = conversations(ctx.cfg)
    tokenizer = build_tokenizer(ctx.cfg, chat_texts(chats["train"]), resume_from=resume_from, kind="decoder")
    model = build_run_model(ctx.cfg, tokenizer)
    return Parts(tokenizer, model, chat_objective(ctx, tokenizer, chats))


def recipe(cfg: TrainConfig, **options) -> Recipe:
    return Recipe(cfg, build=build, **options)
