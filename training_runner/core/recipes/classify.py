"""Recipe ``classify``: sequence classification with a BERT-style encoder.

Records hold a text and a label (``classify.text_field`` / ``label_field``). Label names come
from ``classify.labels`` or, when unset, from the sorted distinct training labels; they are
written to ``config.json`` as ``id2label``. Validation reports loss and accuracy.
"""

from __future__ import annotations

from pathlib import Path

from ..config import TrainConfig
from ..data import record_field
from .common import Parts, Recipe, RunContext, build_run_model, build_tokenizer, corpus_records, labeled_objective


def build(ctx: RunContext, resume_from: Path | None) -> Parts:
    cfg = ctx.cfg.classify
    records = corpus_records(ctx.cfg)
    labels = [str(record_field(r, cfg.label_field, "classify.label_field")) for r in records["train"]]
    names = cfg.labels or sorted(set(labels))
    texts = [record_field(r, cfg.text_field, "classify.text_field") for r in records["train"]]
    tokenizer = build_tokenizer(ctx.cfg, texts, resume_from=resume_from, kind="encoder")
    id2label = dict(enumerate(names))
    model = build_run_model(ctx.cfg, tokenizer, head="classification", id2label=id2label)
    label_ids = {name: i for i, name in id2label.items()}
    return Parts(tokenizer, model, labeled_objective(ctx, tokenizer, records, label_ids))


def recipe(cfg: TrainConfig, **options) -> Recipe:
    return Recipe(cfg, build=build, **options)
