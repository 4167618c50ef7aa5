"""Recipe ``pretrain_clm``: causal-LM pretraining of a decoder on a text corpus.

Documents are tokenized into cached shards, joined with eos and cut into packed windows; the
validation split reports loss and bits per byte. Output: a model repository directory.
"""

from __future__ import annotations

from pathlib import Path

from ..config import TrainConfig
from .common import Parts, Recipe, RunContext, build_run_model, build_tokenizer, causal_objective, corpus_texts


def build(ctx: RunContext, resume_from: Path | None) -> Parts:
    texts = corpus_texts(ctx.cfg)
    tokenizer = build_tokenizer(ctx.cfg, texts["train"], resume_from=resume_from, kind="decoder")
    model = build_run_model(ctx.cfg, tokenizer)
    return Parts(tokenizer, model, causal_objective(ctx, tokenizer, texts))


def recipe(cfg: TrainConfig, **options) -> Recipe:
    return Recipe(cfg, build=build, **options)
