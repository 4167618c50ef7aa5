"""Row locks of runs (``select_for_update``). Take them inside a transaction.

Lock order: the queue lock (``queue_lock``) before any run row; one run row at a time otherwise.
"""

from __future__ import annotations

from training_runner.jobs.models import QueueLock, Run

GPU_QUEUE = "gpu"


def run_lock(*, run_id: int) -> Run:
    """Lock one run row: every state change and every publish holds it."""
    return Run.objects.select_for_update().get(pk=run_id)


def queue_lock(*, name: str = GPU_QUEUE) -> QueueLock:
    """Lock the fair queue while it hands out slots (created on first use)."""
    QueueLock.objects.get_or_create(name=name)
    return QueueLock.objects.select_for_update().get(name=name)
