"""A run's lifecycle: state transitions, the fair queue, claiming, cancelling and the watchdog.

Only these functions move ``Run.state``; each move is checked against ``choices.TRANSITIONS`` and
recorded as a ``RunTransition`` with its reason. Locks: ``runs_dispatch`` takes the queue lock,
then no run lock (it updates ``dispatched_at`` with a conditional UPDATE); every other function
takes one run lock (``locks.run_lock``).

Workers and the broker: a run is sent to the ``gpu`` queue when the fair queue gives it a slot
(``runs_dispatch``). The task may arrive twice (``acks_late`` redelivery, a watchdog resend), so
``run_claim`` decides: a queued run is taken; a running run with a fresh heartbeat belongs to a
live worker and the duplicate leaves; a running run whose heartbeat went stale lost its worker
and is taken over, resuming from its last checkpoint.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import PermissionDenied
from common.events import Event, EventKind, emit
from registry.events import repo_snapshot
from training_runner.jobs.choices import TRANSITIONS, RunState
from training_runner.jobs.errors import RunFinished
from training_runner.jobs.locks import queue_lock, run_lock
from training_runner.jobs.models import Run, RunTransition
from training_runner.jobs.selectors import runs_fair_order
from training_runner.jobs.signals import run_state_changed

logger = logging.getLogger(__name__)


def _run_repo(run: Run):
    """The repository a finished run is news for: the one it published to, else the model it
    evaluated (None when neither exists any more)."""
    repo = run.output_repo or run.model_repo
    return repo_snapshot(repo=repo) if repo is not None else None


def run_transition(*, run: Run, to: RunState, reason: str, actor=None, **fields) -> Run:
    """Move ``run`` (locked by the caller) to ``to``, stamping the transition's time and reason.

    ``fields`` are other columns changed in the same save. Raises ``ValueError`` for a move the
    state machine does not allow (a bug, not a user error).
    """
    current = RunState(run.state)
    if to not in TRANSITIONS[current]:
        raise ValueError(f"run {run.pk}: {current} -> {to} is not a transition of the state machine")
    now = timezone.now()
    run.state, run.reason = to, reason
    changed = {"state", "reason", "updated_at", *fields}
    for name, value in fields.items():
        setattr(run, name, value)
    if to == RunState.RUNNING and run.started_at is None:
        run.started_at = now
        changed.add("started_at")
    if to == RunState.QUEUED:
        run.queued_at, run.dispatched_at = now, None
        changed |= {"queued_at", "dispatched_at"}
    if RunState(to).finished:
        run.finished_at = now
        changed.add("finished_at")
        emit(
            Event(
                kind=EventKind.RUN_FINISHED, actor_id=getattr(actor, "pk", None), user_ids=(run.user_id,),
                repo=_run_repo(run),
                data={"run_id": run.pk, "state": str(to), "kind": run.kind, "reason": reason[:500]},
            )
        )  # fmt: skip
    run.save(update_fields=sorted(changed))
    RunTransition.objects.create(run=run, from_state=current, to_state=to, reason=reason, actor=actor, at=now)
    run_id = run.pk
    transaction.on_commit(lambda: run_state_changed.send(sender=Run, run_id=run_id, state=to))
    return run


def run_record_submission(*, run: Run, reason: str) -> None:
    """The first entry of a new run's history (it starts queued)."""
    RunTransition.objects.create(
        run=run, from_state="", to_state=RunState.QUEUED, reason=reason, actor=run.user, at=run.queued_at
    )


def check_can_cancel(*, user, run: Run) -> None:
    if not (user.is_authenticated and (user.pk == run.user_id or user.is_staff)):
        raise PermissionDenied("Only the person who started a run (or staff) can cancel it.")


def run_cancel(*, run_id: int, user) -> Run:
    """Cancel a run: a queued one at once; a running one stops at its next step, writes a
    checkpoint and ends ``cancelled`` (its worker sees ``cancel_requested_at``)."""
    with transaction.atomic():
        run = run_lock(run_id=run_id)
        check_can_cancel(user=user, run=run)
        if RunState(run.state).finished:
            raise RunFinished(f"Run {run.pk} has already {run.state}.")
        if run.state == RunState.QUEUED:
            run_transition(
                run=run, to=RunState.CANCELLED, reason=f"Cancelled by {user.username} before it started.", actor=user
            )
        elif run.cancel_requested_at is None:
            run.cancel_requested_at = timezone.now()
            run.save(update_fields=["cancel_requested_at", "updated_at"])
    runs_dispatch_on_commit()
    return run


# ----------------------------------------------------------------------------- the fair queue


def runs_dispatch() -> list[int]:
    """Hand free slots (``HUB_RUN_SLOTS`` minus runs running or already sent) to queued runs in
    fair order, skipping users at ``HUB_RUN_MAX_RUNNING_PER_USER``; send each chosen run to the
    ``gpu`` queue after commit. Returns the ids sent. Safe to call any time, from anywhere."""
    from training_runner.jobs.tasks import run_execute_task

    with transaction.atomic():
        queue_lock()
        busy = Run.objects.filter(state=RunState.RUNNING).count()
        busy += Run.objects.filter(state=RunState.QUEUED, dispatched_at__isnull=False).count()
        free = settings.HUB_RUN_SLOTS - busy
        if free <= 0:
            return []
        active: dict[int, int] = {}
        for user_id in Run.objects.filter(state=RunState.RUNNING).values_list("user_id", flat=True):
            active[user_id] = active.get(user_id, 0) + 1
        for user_id in Run.objects.filter(state=RunState.QUEUED, dispatched_at__isnull=False).values_list(
            "user_id", flat=True
        ):
            active[user_id] = active.get(user_id, 0) + 1
        chosen = []
        for run in runs_fair_order():
            if len(chosen) == free:
                break
            if run.dispatched_at is not None or active.get(run.user_id, 0) >= settings.HUB_RUN_MAX_RUNNING_PER_USER:
                continue
            sent = Run.objects.filter(pk=run.pk, state=RunState.QUEUED, dispatched_at__isnull=True).update(
                dispatched_at=timezone.now()
            )
            if sent:
                chosen.append(run.pk)
                active[run.user_id] = active.get(run.user_id, 0) + 1
        for run_id in chosen:
            run_execute_task.delay_on_commit(run_id)
    return chosen


def runs_dispatch_on_commit() -> None:
    """Run the fair queue once the current transaction commits (a task, so a web request never
    waits for it)."""
    from training_runner.jobs.tasks import runs_dispatch_task

    runs_dispatch_task.delay_on_commit()


# ----------------------------------------------------------------------------- workers


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.HUB_RUN_STALE_SECONDS)


def run_claim(*, run_id: int, worker: str) -> Run | None:
    """Take ``run_id`` for ``worker``: the run, now ``running`` under a new attempt number, or None
    when there is nothing to do (finished, cancelled, or alive under another worker)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or RunState(run.state).finished:
            return None
        if run.state == RunState.RUNNING:
            if run.heartbeat_at is not None and run.heartbeat_at >= _stale_before():
                logger.info(
                    "run %s is alive under %s (attempt %s); duplicate delivery ignored", run.pk, run.worker, run.attempt
                )
                return None
            run_transition(run=run, to=RunState.QUEUED, reason=_lost_reason(run))
        if run.cancel_requested_at is not None:
            run_transition(run=run, to=RunState.CANCELLED, reason="Cancelled before it could resume.")
            return None
        resume = f", resuming from the checkpoint of step {run.checkpoint_step}" if run.checkpoint_step else ""
        return run_transition(
            run=run,
            to=RunState.RUNNING,
            reason=f"Started on {worker} (attempt {run.attempt + 1}{resume}).",
            attempt=run.attempt + 1,
            worker=worker,
            heartbeat_at=timezone.now(),
        )


def _lost_reason(run: Run) -> str:
    since = run.heartbeat_at.isoformat(timespec="seconds") if run.heartbeat_at else "its start"
    where = f"the checkpoint of step {run.checkpoint_step}" if run.checkpoint_step else "the beginning"
    return f"Worker {run.worker or '?'} stopped answering (no heartbeat since {since}); it resumes from {where}."


def runs_watchdog() -> list[int]:
    """Queue again every running run whose worker stopped answering, and run the fair queue; the
    runs resume from their last checkpoint. Returns the ids requeued. Beat calls it regularly."""
    requeued = []
    stale = Run.objects.filter(state=RunState.RUNNING, heartbeat_at__lt=_stale_before()).values_list("pk", flat=True)
    for run_id in list(stale):
        with transaction.atomic():
            run = run_lock(run_id=run_id)
            if run.state != RunState.RUNNING or run.heartbeat_at >= _stale_before():
                continue
            if run.cancel_requested_at is not None:
                run_transition(run=run, to=RunState.CANCELLED, reason=f"{_lost_reason(run)[:-1]} — cancelled.")
            else:
                run_transition(run=run, to=RunState.QUEUED, reason=_lost_reason(run))
                requeued.append(run_id)
    runs_dispatch()
    return requeued


def run_finish(*, run_id: int, attempt: int, to: RunState, reason: str, dispatch: bool = True, **fields) -> Run | None:
    """End the ``attempt`` of a run; None when another attempt has taken the run over meanwhile
    (then this worker's outcome no longer counts). ``dispatch=False`` leaves the fair queue to
    the watchdog (a worker that is shutting down hands its run back without taking new ones)."""
    with transaction.atomic():
        run = run_lock(run_id=run_id)
        if run.attempt != attempt or run.state != RunState.RUNNING:
            return None
        run = run_transition(run=run, to=to, reason=reason, **fields)
    if dispatch:
        runs_dispatch_on_commit()
    return run
