"""Celery tasks of runs: entry points that take ids and call one service each.

``run_execute_task`` goes to the ``gpu`` queue (config/celery.py routes it); it acknowledges late
and is rejected back to the broker when its worker dies, and ``run_claim`` makes a second delivery
harmless. A run can last hours, so the task has no time limit of its own: cancelling goes through
the run (``run_cancel``), and a lost worker is noticed by ``runs_watchdog_task``.
"""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_shutting_down

from training_runner.jobs.services.execute import run_execute
from training_runner.jobs.services.lifecycle import runs_dispatch, runs_watchdog
from training_runner.jobs.services.recorder import WORKER_STOPPING


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_execute_task(self, run_id: int) -> None:
    """Do one attempt of a run (safe to deliver twice)."""
    run_execute(run_id=run_id, worker=self.request.hostname or "worker")


@shared_task(ignore_result=True)
def runs_dispatch_task() -> None:
    """Send queued runs to the ``gpu`` queue as slots free up, in fair order."""
    runs_dispatch()


@shared_task(ignore_result=True)
def runs_watchdog_task() -> None:
    """Queue again the runs whose worker stopped answering; they resume from their checkpoint."""
    runs_watchdog()


@worker_shutting_down.connect
def _stop_working_runs(**kwargs) -> None:
    """A worker asked to stop (Ctrl-C, SIGTERM) does not wait for a long run to end: the run stops
    at its next step, keeps a checkpoint and is queued again; the worker then exits."""
    WORKER_STOPPING.set()
