"""Reading runs: visibility, listings, the fair queue's order, metrics, logs and samples.

Visibility is coded once (``runs_visible_to``): a run is visible to its owner and to staff, and
to anyone else only when every repository it names is visible to them, so a run never reveals a
private model, dataset or output repository.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from common.errors import NotFound
from registry.models import Repo
from training_runner.jobs.choices import RunKind, RunState
from training_runner.jobs.models import EvalSample, Run, RunLogLine, RunMetric


def _repo_visible(field: str, visible) -> Q:
    """``field`` names no repository, or one the visitor can see (a deleted one is hidden)."""
    return Q(**{f"{field}__isnull": True, f"{field}_name": ""}) | Q(**{f"{field}__in": visible})


def runs_visible_to(user) -> QuerySet[Run]:
    runs = Run.objects.all()
    if user is not None and user.is_authenticated and user.is_staff:
        return runs
    visible = Repo.objects.visible_to(user).values("pk")
    # An output repository a run has not created yet is only a name, visible with the run.
    output = _repo_visible("output_repo", visible) | Q(output_repo__isnull=True, output_commit="")
    condition = _repo_visible("model_repo", visible) & _repo_visible("dataset_repo", visible) & output
    if user is not None and user.is_authenticated:
        condition |= Q(user=user)
    return runs.filter(condition)


def run_get(*, user, run_id: int) -> Run:
    """The run ``run_id`` if ``user`` may see it; ``NotFound`` (404) otherwise, whether it exists or not."""
    run = (
        runs_visible_to(user)
        .select_related("user", "model_repo__namespace", "dataset_repo__namespace", "output_repo__namespace")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound(f"Run {run_id} not found.")
    return run


@dataclass(frozen=True)
class RunFilters:
    username: str = ""
    repo: Repo | None = None  # runs that read or wrote this repository
    state: str = ""
    kind: str = ""


def run_list(*, user, filters: RunFilters) -> QuerySet[Run]:
    runs = runs_visible_to(user).select_related("user", "model_repo__namespace", "output_repo__namespace")
    if filters.username:
        runs = runs.filter(user__username__iexact=filters.username)
    if filters.repo is not None:
        runs = runs.filter(Q(model_repo=filters.repo) | Q(dataset_repo=filters.repo) | Q(output_repo=filters.repo))
    if filters.state:
        runs = runs.filter(state=filters.state)
    if filters.kind:
        runs = runs.filter(kind=filters.kind)
    return runs.order_by("-created_at", "-id")


# ----------------------------------------------------------------------------- the fair queue


def runs_fair_order() -> list[Run]:
    """Queued runs in the order the fair queue starts them.

    Round robin between users: each user's queued runs take turns with everyone else's, a user's
    runs already running counting as turns taken, oldest first within a turn. Runs already sent to
    a worker come first, in the order they were sent.
    """
    running = Counter(Run.objects.filter(state=RunState.RUNNING).values_list("user_id", flat=True))
    queued = list(Run.objects.filter(state=RunState.QUEUED).order_by("queued_at", "id"))
    sent = sorted((r for r in queued if r.dispatched_at is not None), key=lambda r: (r.dispatched_at, r.pk))
    waiting = [r for r in queued if r.dispatched_at is None]
    turn: Counter[int] = Counter()
    keyed = []
    for run in waiting:  # oldest first, so each user's n-th run gets turn running + n
        keyed.append(((running[run.user_id] + turn[run.user_id], run.queued_at, run.pk), run))
        turn[run.user_id] += 1
    return sent + [run for _, run in sorted(keyed, key=lambda pair: pair[0])]


def run_queue_position(*, run: Run) -> int | None:
    """How many queued runs start before ``run`` (0: it is next); None when it is not queued."""
    if run.state != RunState.QUEUED:
        return None
    order = [r.pk for r in runs_fair_order()]
    return order.index(run.pk) if run.pk in order else None


def user_run_counts(*, user) -> dict[str, int]:
    rows = Run.objects.filter(user=user, state__in=(RunState.QUEUED, RunState.RUNNING)).values_list("state", flat=True)
    counts = Counter(rows)
    return {RunState.QUEUED: counts[RunState.QUEUED], RunState.RUNNING: counts[RunState.RUNNING]}


# ----------------------------------------------------------------------------- what a run recorded


def run_metrics(*, run: Run, after: int = 0, limit: int = 5000) -> list[RunMetric]:
    """Metric rows after the row id ``after`` (the live page asks for what is new)."""
    return list(RunMetric.objects.filter(run=run, id__gt=after).order_by("id")[:limit])


def run_log_lines(*, run: Run, after: int = 0, limit: int = 1000) -> list[RunLogLine]:
    return list(RunLogLine.objects.filter(run=run, id__gt=after).order_by("id")[:limit])


def run_log_tail(*, run: Run, lines: int = 200) -> list[RunLogLine]:
    return list(reversed(RunLogLine.objects.filter(run=run).order_by("-id")[:lines]))


def run_samples(*, run: Run, task: str = "", wrong_only: bool = False) -> QuerySet[EvalSample]:
    samples = EvalSample.objects.filter(run=run)
    if task:
        samples = samples.filter(task=task)
    if wrong_only:
        samples = samples.filter(correct=False)
    return samples.order_by("task", "position")


def run_tasks(*, run: Run) -> list[str]:
    """Task names of an evaluation run, in the order the suite lists them."""
    if run.kind != RunKind.EVALUATION or not run.results:
        return []
    return list(run.results.get("tasks", {}))
