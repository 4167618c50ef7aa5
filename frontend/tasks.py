"""Celery tasks of the pages layer: the demo's follow-up under ``make run``."""

from __future__ import annotations

from celery import shared_task

from frontend.demo import demo_follow_up


@shared_task(ignore_result=True)
def demo_follow_up_task() -> None:
    """Finish the demo once its models exist (playgrounds, arena battles); safe to run again."""
    demo_follow_up()
