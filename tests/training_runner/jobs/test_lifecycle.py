"""The run state machine, the fair queue, claiming, cancelling and the watchdog."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import PermissionDenied
from tests.support.factories import make_user
from training_runner.jobs.choices import RunKind, RunState
from training_runner.jobs.errors import RunFinished
from training_runner.jobs.locks import run_lock
from training_runner.jobs.models import Run
from training_runner.jobs.selectors import run_queue_position, runs_fair_order
from training_runner.jobs.services.lifecycle import (
    run_cancel,
    run_claim,
    run_transition,
    runs_dispatch,
    runs_watchdog,
)

pytestmark = pytest.mark.django_db


def queued(user, *, minutes_ago: int = 0) -> Run:
    """A queued run row (the lifecycle does not look at inputs)."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Run.objects.create(kind=RunKind.EVALUATION, user=user, queued_at=at, reason="Submitted.")


def test_only_the_state_machine_s_moves_are_allowed():
    run = queued(make_user())
    run_transition(run=run, to=RunState.RUNNING, reason="Started.")
    assert run.started_at is not None
    run_transition(run=run, to=RunState.SUCCEEDED, reason="Done.")
    assert run.finished_at is not None
    with pytest.raises(ValueError, match="succeeded -> running is not a transition"):
        run_transition(run=run, to=RunState.RUNNING, reason="Again.")
    assert [(t.from_state, t.to_state) for t in run.transitions.all()] == [
        ("queued", "running"),
        ("running", "succeeded"),
    ]


def test_the_fair_queue_takes_turns_between_users():
    ann, ben, cat = make_user("ann"), make_user("ben"), make_user("cat")
    a1, a2, a3 = queued(ann, minutes_ago=10), queued(ann, minutes_ago=9), queued(ann, minutes_ago=8)
    b1 = queued(ben, minutes_ago=5)
    c1 = queued(cat, minutes_ago=1)
    assert runs_fair_order() == [a1, b1, c1, a2, a3]
    assert [run_queue_position(run=r) for r in (a1, b1, c1, a2, a3)] == [0, 1, 2, 3, 4]

    # A run already running counts as ann's turn taken.
    Run.objects.filter(pk=a1.pk).update(state=RunState.RUNNING)
    assert runs_fair_order() == [b1, c1, a2, a3]
    assert run_queue_position(run=Run.objects.get(pk=a1.pk)) is None


def test_dispatch_fills_free_slots_once_and_respects_each_user_s_share(settings):
    settings.HUB_RUN_SLOTS = 2
    ann, ben = make_user("ann"), make_user("ben")
    a1, a2 = queued(ann, minutes_ago=3), queued(ann, minutes_ago=2)
    b1 = queued(ben, minutes_ago=1)

    assert runs_dispatch() == [a1.pk, b1.pk]
    assert runs_dispatch() == []  # both slots taken by runs sent to the broker
    # Sent runs come first in the order, in the order they were sent.
    assert runs_fair_order()[:2] == [a1, b1]

    Run.objects.filter(pk__in=[a1.pk, b1.pk]).update(state=RunState.SUCCEEDED)
    assert runs_dispatch() == [a2.pk]


def test_one_user_runs_one_run_at_a_time_by_default():
    ann = make_user("ann")
    a1, a2 = queued(ann, minutes_ago=2), queued(ann, minutes_ago=1)
    assert runs_dispatch() == [a1.pk]
    Run.objects.filter(pk=a1.pk).update(state=RunState.RUNNING)
    assert runs_dispatch() == []
    assert Run.objects.get(pk=a2.pk).dispatched_at is None


def test_claiming_runs_once_and_takes_over_only_from_a_lost_worker(settings):
    run = queued(make_user())
    claimed = run_claim(run_id=run.pk, worker="w1@gpu")
    assert (claimed.state, claimed.attempt, claimed.worker) == (RunState.RUNNING, 1, "w1@gpu")
    assert claimed.reason == "Started on w1@gpu (attempt 1)."

    # The same message delivered twice while w1 is alive: nothing happens.
    assert run_claim(run_id=run.pk, worker="w2@gpu") is None

    # w1 stopped answering: its heartbeat is older than HUB_RUN_STALE_SECONDS.
    stale = timezone.now() - timedelta(seconds=settings.HUB_RUN_STALE_SECONDS + 1)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=stale, checkpoint_step=40)
    taken = run_claim(run_id=run.pk, worker="w2@gpu")
    assert (taken.attempt, taken.worker) == (2, "w2@gpu")
    assert taken.reason == "Started on w2@gpu (attempt 2, resuming from the checkpoint of step 40)."
    history = [(t.from_state, t.to_state) for t in taken.transitions.all()]
    assert history == [("queued", "running"), ("running", "queued"), ("queued", "running")]
    assert taken.transitions.all()[1].reason.startswith("Worker w1@gpu stopped answering (no heartbeat since ")

    Run.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED)
    assert run_claim(run_id=run.pk, worker="w3@gpu") is None


def test_the_watchdog_queues_runs_whose_worker_is_lost(settings):
    settings.HUB_RUN_SLOTS = 5
    alive, lost, cancelled = queued(make_user()), queued(make_user()), queued(make_user())
    for run in (alive, lost, cancelled):
        run_claim(run_id=run.pk, worker="w@gpu")
    stale = timezone.now() - timedelta(seconds=settings.HUB_RUN_STALE_SECONDS + 5)
    Run.objects.filter(pk__in=[lost.pk, cancelled.pk]).update(heartbeat_at=stale, checkpoint_step=8)
    Run.objects.filter(pk=cancelled.pk).update(cancel_requested_at=timezone.now())

    assert runs_watchdog() == [lost.pk]

    states = dict(Run.objects.values_list("pk", "state"))
    assert states == {alive.pk: "running", lost.pk: "queued", cancelled.pk: "cancelled"}
    lost.refresh_from_db()
    assert lost.reason.endswith("it resumes from the checkpoint of step 8.")
    assert lost.dispatched_at is not None  # sent to a worker again at once


def test_cancelling(settings):
    owner, other = make_user("owner"), make_user("other")
    waiting = queued(owner)
    with pytest.raises(PermissionDenied):
        run_cancel(run_id=waiting.pk, user=other)
    cancelled = run_cancel(run_id=waiting.pk, user=owner)
    assert (cancelled.state, cancelled.reason) == (RunState.CANCELLED, "Cancelled by owner before it started.")
    assert cancelled.transitions.get(to_state="cancelled").actor == owner

    working = queued(owner)
    run_claim(run_id=working.pk, worker="w@gpu")
    requested = run_cancel(run_id=working.pk, user=owner)
    # A running run stops at its next step: the worker sees the request.
    assert (requested.state, requested.cancel_requested_at is not None) == (RunState.RUNNING, True)

    Run.objects.filter(pk=working.pk).update(state=RunState.SUCCEEDED)
    with pytest.raises(RunFinished) as error:
        run_cancel(run_id=working.pk, user=owner)
    assert (error.value.status, error.value.message) == (409, f"Run {working.pk} has already succeeded.")


def test_run_rows_are_locked_for_changes():
    run = queued(make_user())
    from django.db import transaction

    with transaction.atomic():
        assert run_lock(run_id=run.pk) == run
