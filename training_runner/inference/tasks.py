"""Celery tasks of the inference app."""

from __future__ import annotations

from celery import shared_task

from training_runner.inference.services import arena


@shared_task(ignore_result=True)
def arena_ratings_recompute() -> int:
    """Refit the arena's Bradley–Terry ratings from every counted vote. Safe to run twice."""
    return arena.arena_ratings_recompute()
