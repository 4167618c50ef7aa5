"""Signal receivers: leaderboards follow runs, default branches and pull requests (connected in
``apps.LeaderboardsConfig.ready``). Each does one cheap check and hands the work to a task.
Saved and deleted entries, deleted runs (their entries lose the link to their items) and deleted
models (their entries lose their model) count as changes of their boards' tables."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from community.models import Discussion
from community.signals import pull_request_committed
from evals.leaderboards.models import Entry, Leaderboard
from evals.leaderboards.services.boards import board_touch
from evals.leaderboards.services.submissions import entries_follow_run
from registry.models import Repo
from registry.signals import default_branch_moved
from training_runner.jobs.models import Run
from training_runner.jobs.signals import run_state_changed


@receiver(run_state_changed, dispatch_uid="leaderboards-follow-runs")
def follow_run(sender, *, run_id: int, state: str, **kwargs) -> None:
    from evals.leaderboards.tasks import entry_finished_task

    for entry_id in entries_follow_run(run_id=run_id, state=state):
        if Entry.objects.filter(pk=entry_id, state="finished").exists():
            entry_finished_task.delay_on_commit(entry_id)


@receiver(default_branch_moved, dispatch_uid="leaderboards-follow-default-branches")
def follow_default_branch(sender, *, repo_id: int, commit_oid: str, **kwargs) -> None:
    from evals.leaderboards.tasks import repo_default_branch_moved_task

    repo = Repo.objects.filter(pk=repo_id).only("card_data", "type").first()
    enrolled = repo is not None and (
        (repo.card_data or {}).get("leaderboards") or Leaderboard.objects.filter(entries__model_repo=repo).exists()
    )
    if enrolled:
        repo_default_branch_moved_task.delay_on_commit(repo_id, commit_oid)


@receiver(pull_request_committed, dispatch_uid="leaderboards-follow-pull-requests")
def follow_pull_request(sender, *, discussion_id: int, commit_oid: str, **kwargs) -> None:
    from evals.leaderboards.tasks import pull_request_committed_task

    repo_id = Discussion.objects.filter(pk=discussion_id).values_list("repo_id", flat=True).first()
    if repo_id is not None and Entry.objects.filter(model_repo_id=repo_id, current=True).exists():
        pull_request_committed_task.delay_on_commit(discussion_id, commit_oid)


@receiver(post_save, sender=Entry, dispatch_uid="leaderboards-entry-saved")
@receiver(post_delete, sender=Entry, dispatch_uid="leaderboards-entry-deleted")
def entry_changed(sender, *, instance: Entry, **kwargs) -> None:
    board_touch(board_id=instance.board_id)


@receiver(pre_delete, sender=Repo, dispatch_uid="leaderboards-repo-deleting")
def repo_deleting(sender, *, instance: Repo, **kwargs) -> None:
    """The boards of a model about to be deleted: its entries lose their model without a signal
    (``SET_NULL``), and the board page caches which entries it lists."""
    instance._leaderboard_boards = list(
        Entry.objects.filter(model_repo=instance).order_by().values_list("board_id", flat=True).distinct()
    )


@receiver(post_delete, sender=Repo, dispatch_uid="leaderboards-repo-deleted")
def repo_deleted(sender, *, instance: Repo, **kwargs) -> None:
    for board_id in getattr(instance, "_leaderboard_boards", ()):
        board_touch(board_id=board_id)


@receiver(pre_delete, sender=Run, dispatch_uid="leaderboards-run-deleted")
def run_deleted(sender, *, instance: Run, **kwargs) -> None:
    for board_id in Entry.objects.filter(run=instance).order_by().values_list("board_id", flat=True).distinct():
        board_touch(board_id=board_id)
