"""Celery tasks of leaderboards: entry points that take ids and call services."""

from __future__ import annotations

from celery import shared_task

from evals.leaderboards.services.follow import (
    entry_finished,
    repo_default_branch_moved,
    repo_pull_request_committed,
)
from evals.leaderboards.services.scoring import board_rank


@shared_task(ignore_result=True)
def entry_finished_task(entry_id: int) -> None:
    """Score a finished entry, check it for contamination, compare a re-run, rank its board."""
    entry_finished(entry_id=entry_id)


@shared_task(ignore_result=True)
def board_rank_task(board_id: int) -> None:
    board_rank(board_id=board_id)


@shared_task(ignore_result=True)
def repo_default_branch_moved_task(repo_id: int, commit_oid: str) -> None:
    """Enrolled models are evaluated again when their default branch moves."""
    repo_default_branch_moved(repo_id=repo_id, commit_oid=commit_oid)


@shared_task(ignore_result=True)
def pull_request_committed_task(discussion_id: int, commit_oid: str) -> None:
    """A pull request that changes an enrolled model's weights is evaluated on its head."""
    repo_pull_request_committed(discussion_id=discussion_id, commit_oid=commit_oid)
