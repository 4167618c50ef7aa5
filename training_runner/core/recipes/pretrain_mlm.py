"""Recipe ``pretrain_mlm``: masked-LM pretraining of a BERT-style encoder on a text corpus.

15 % of the non-special tokens are chosen for prediction; of those 80 % become the mask token,
10 % a random token and 10 % stay (``mlm.*``). Masks are drawn anew each time a window is read,
from a generator that is part of the checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from ..config import TrainConfig
from .common import Parts, Recipe, RunContext, build_run_model, build_tokenizer, corpus_texts, masked_objective


def build(ctx: RunContext, resume_from: Path | None) -> Parts:
    texts = corpus_texts(ctx.cfg)
    tokenizer = build_tokenizer(ctx.cfg, texts["train"], resume_from=resume_from, kind="encoder")
    model = build_run_model(ctx.cfg, tokenizer, head="mlm")
    return Parts(tokenizer, model, masked_objective(ctx, tokenizer, texts))


def recipe(cfg: TrainConfig, **options) -> Recipe:
    return Recipe(cfg, build=build, **options)
