"""Programmatic entry point: the Django job runner and the CLI both call ``run_training``.

The web side passes a plain ``TrainConfig`` and receives progress through ``on_metrics`` (one
dict per optimizer step, ``{"event": "train", "step", "loss", "lr", "grad_norm", "tokens_per_s",
"tokens_seen", "epoch", "elapsed_s"[, "mfu"]}``, and one per validation, ``{"event": "eval",
"step", "val_loss"[, "val_bpb", "val_accuracy"]}``). ``should_stop`` is polled before each step;
when it returns True the run writes a checkpoint and returns with ``stopped=True``, and a later
call with ``resume_from=<that checkpoint>`` continues exactly where it stopped.
``on_checkpoint`` receives the directory of every checkpoint once it is complete on disk (the
hub's worker copies it to the hub's storage, so a replacement worker can resume from it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .config import TrainConfig
from .recipes import RECIPES
from .recipes.common import TrainResult

__all__ = ["TrainResult", "run_training"]


def run_training(
    config: TrainConfig,
    *,
    output_dir: str | Path,
    on_metrics: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume_from: Path | None = None,
    on_checkpoint: Callable[[Path], None] | None = None,
) -> TrainResult:
    """Run ``config.recipe`` to the end (or to a requested stop) and return its result."""
    recipe = RECIPES[config.recipe](
        config,
        output_dir=Path(output_dir),
        on_metrics=on_metrics,
        should_stop=should_stop,
        on_checkpoint=on_checkpoint,
    )
    try:
        recipe.setup(resume_from=Path(resume_from) if resume_from is not None else None)
        return recipe.train()
    finally:
        recipe.cleanup()
