"""Creating leaderboards: who may, and what a board is (a pinned suite, its columns, its rules)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from common.errors import Conflict, PermissionDenied, ValidationError
from evals.harness.metrics import HIGHER_IS_BETTER
from evals.leaderboards.choices import SubmissionPolicy
from evals.leaderboards.models import Leaderboard, new_board_version
from hub.choices import NamespaceKind
from hub.models import Membership, Namespace
from hub.permissions import OrgAction, role_allows
from registry.services.repos import repo_name_validate
from training_runner.jobs.services.submit_evaluation import check_suite

AGGREGATE = "*"


def check_can_manage_boards(*, user, namespace: Namespace) -> None:
    """Staff anywhere; organization admins in their organization."""
    if not user.is_authenticated:
        raise PermissionDenied("Log in to create leaderboards.")
    if user.is_staff:
        return
    if namespace.kind == NamespaceKind.ORGANIZATION:
        role = Membership.objects.filter(organization__namespace=namespace, user=user).values_list("role", flat=True)
        if role_allows(role.first(), OrgAction.MANAGE_REPO):
            return
    raise PermissionDenied(f"Only admins of {namespace.name} (or the hub's staff) can manage its leaderboards.")


def column_key(column: dict[str, Any]) -> str:
    return f"{column['task']}:{column['metric']}"


def suite_columns(suite, requested: list[str] | None) -> list[dict[str, Any]]:
    """The board's columns: the requested ``task:metric`` pairs (``*`` is the suite aggregate),
    or by default the aggregate then each task's first metric."""
    metrics = {task.name: [m.name for m in task.metrics] for task in suite.tasks}
    if not requested:
        pairs = [(AGGREGATE, suite.aggregate.metric)] if suite.aggregate else []
        pairs += [(name, names[0]) for name, names in metrics.items()]
    else:
        pairs = []
        for item in requested:
            task, _, metric = str(item).partition(":")
            known = (
                metric == suite.aggregate.metric
                if task == AGGREGATE and suite.aggregate
                else metric in metrics.get(task, [])
            )
            if not known:
                raise ValidationError(
                    f"Column {item!r} is not a metric of suite {suite.name} (use task:metric, or *:metric for "
                    "its aggregate).",
                    fields={"columns": [f"Unknown column {item!r}."]},
                )
            pairs.append((task, metric))
    return [{"task": task, "metric": metric, "higher_is_better": HIGHER_IS_BETTER[metric]} for task, metric in pairs]


def leaderboard_create(
    *,
    user,
    namespace: Namespace,
    name: str,
    title: str,
    suite: str,
    description: str = "",
    suite_revision: str | None = None,
    suite_file: str | None = None,
    columns: list[str] | None = None,
    policy: str = SubmissionPolicy.ANYONE,
    max_parameters: int | None = None,
    limit: int | None = None,
    submissions_per_day: int = 5,
) -> Leaderboard:
    """A new board on ``suite`` (pinned now: its content hash, and its commit when it lives in a
    dataset repository). Refuses anything it cannot honour with field errors."""
    check_can_manage_boards(user=user, namespace=namespace)
    repo_name_validate(name)
    if not title or len(title) > 200:
        raise ValidationError("A board needs a title of at most 200 characters.", fields={"title": ["Required."]})
    if policy not in SubmissionPolicy.values:
        raise ValidationError(f"policy must be one of {', '.join(SubmissionPolicy.values)}.", fields={"policy": ["?"]})
    for key, value in (("max_parameters", max_parameters), ("limit", limit)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValidationError(f"{key} must be a positive whole number.", fields={key: ["Invalid."]})
    if not isinstance(submissions_per_day, int) or not 1 <= submissions_per_day <= 1000:
        raise ValidationError("submissions_per_day must be from 1 to 1000.", fields={"submissions_per_day": ["?"]})
    choice = check_suite(user=user, suite=suite, suite_revision=suite_revision, suite_file=suite_file)
    try:
        with transaction.atomic():
            return Leaderboard.objects.create(
                namespace=namespace,
                name=name,
                title=title,
                description=description,
                suite=choice.name,
                suite_repo=choice.pinned.repo if choice.pinned else None,
                suite_revision=choice.pinned.revision if choice.pinned else "",
                suite_commit=choice.pinned.commit if choice.pinned else "",
                suite_file=choice.file,
                suite_hash=choice.hash,
                columns=suite_columns(choice.suite, columns),
                policy=policy,
                max_parameters=max_parameters,
                limit=limit,
                submissions_per_day=submissions_per_day,
                created_by=user,
            )
    except IntegrityError:
        raise Conflict(f"{namespace.name} already has a leaderboard named {name}.") from None


def board_touch(*, board_id: int) -> None:
    """Count a change to what the board's table shows (an entry's scores, rank, flags, trust, run,
    or which entries there are, and its queue): the page caches its entries' keys, its queue, its
    rendered rows and the exports under the board's ``version``, so the next request reads and
    renders them again. Call it after the write, in the same transaction (a
    page that read the former version may then cache what it read under it, never stale rows under
    the new one); it holds the board's row lock until that transaction ends (lock order: entries,
    then the board).
    ``receivers`` calls it for every saved or deleted entry; services that write entries with
    ``QuerySet.update`` or ``bulk_update`` (which send no signals) call it themselves."""
    Leaderboard.objects.filter(pk=board_id).update(version=new_board_version())
