"""Celery tasks of the community app: entry points that load ids and call one service each."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True, time_limit=7200, soft_time_limit=7000)
def conversion_run_task(conversion_id: int) -> None:
    """Convert checkpoints to safetensors (``community.conversion.conversion_run``). Safe to run twice."""
    from community.conversion import conversion_run

    conversion_run(conversion_id=conversion_id)
