"""What leaderboards do when runs and repositories change.

- An entry's run finished: score it, check it for contamination, rank the board (a re-run is
  compared with the entry it re-runs; a pull request's entry gets its delta against the branch).
- An enrolled model's default branch moved: submit the new commit to each board it is on, and
  to each board its card names under ``leaderboards:``.
- A pull request changed an enrolled model's weights: evaluate its head on the same boards.
"""

from __future__ import annotations

import logging

from common.errors import HubError
from community.models import Discussion
from evals.leaderboards.choices import EntrySource, EntryState
from evals.leaderboards.models import Entry, Leaderboard
from evals.leaderboards.selectors import paired_deltas
from evals.leaderboards.services.scoring import board_rank, entry_score
from evals.leaderboards.services.submissions import entry_submit
from evals.leaderboards.services.trust import entry_compare_rerun, entry_contamination
from registry.choices import RepoType
from registry.models import GitCommit, Repo
from registry.selectors.revisions import ref_target
from registry.trees import tree_files

logger = logging.getLogger(__name__)


def entry_finished(*, entry_id: int) -> None:
    entry = Entry.objects.filter(pk=entry_id, state=EntryState.FINISHED).first()
    if entry is None:
        return
    entry_score(entry_id=entry.pk)
    if entry.rerun_of_id is not None:
        entry_compare_rerun(entry_id=entry.pk)
        return
    if entry.pull_request is not None:
        base = Entry.objects.filter(board=entry.board, model_repo=entry.model_repo, current=True).first()
        if base is not None:
            delta = {
                "base_entry": base.pk,
                "base_commit": base.model_commit,
                "rows": paired_deltas(run_a_id=entry.run_id, run_b_id=base.run_id),
            }
            Entry.objects.filter(pk=entry.pk).update(delta=delta)
        return
    entry_contamination(entry_id=entry.pk)
    board_rank(board_id=entry.board_id)


def enrolled_boards(*, repo: Repo) -> list[Leaderboard]:
    """The boards a model is on (an entry of its default branch) or that its card names."""
    boards = {
        board.pk: board
        for board in Leaderboard.objects.filter(
            entries__model_repo=repo,
            entries__pull_request=None,
            entries__state__in=(EntryState.FINISHED, EntryState.QUEUED, EntryState.RUNNING),
        ).select_related("namespace")
    }
    named = (repo.card_data or {}).get("leaderboards") or []
    for board_id in [named] if isinstance(named, str) else named:
        namespace, _, name = str(board_id).partition("/")
        board = Leaderboard.objects.filter(namespace__name__iexact=namespace, name__iexact=name).first()
        if board is not None:
            boards.setdefault(board.pk, board)
    return list(boards.values())


def repo_default_branch_moved(*, repo_id: int, commit_oid: str) -> list[int]:
    """Submit the new head of an enrolled model to its boards; the entries made (admitted or not)."""
    repo = Repo.objects.filter(pk=repo_id, type=RepoType.MODEL).select_related("namespace").first()
    if repo is None:
        return []
    commit = GitCommit.objects.filter(repo=repo, oid=commit_oid).select_related("author").first()
    submitter = (commit.author if commit is not None else None) or repo.created_by
    if submitter is None:
        return []
    made = []
    for board in enrolled_boards(repo=repo):
        on_board = Entry.objects.filter(board=board, model_repo=repo, pull_request=None).exists()
        source = EntrySource.MAIN_MOVED if on_board else EntrySource.CARD
        try:
            made.append(
                entry_submit(
                    board=board, user=submitter, model=repo.repo_id, revision=commit_oid, source=source
                ).entry.pk
            )
        except HubError as exc:
            logger.info("%s@%s not submitted to %s: %s", repo.repo_id, commit_oid[:12], board.board_id, exc.message)
    return made


def _weights(repo: Repo, commit_oid: str | None) -> set[tuple[str, str]]:
    if commit_oid is None:
        return set()
    tree = repo.commits.get(oid=commit_oid).tree_oid
    return {(f.path, f.sha256) for f in tree_files(tree) if f.path.endswith(".safetensors")}


def repo_pull_request_committed(*, discussion_id: int, commit_oid: str) -> list[int]:
    """Evaluate a pull request's head on the boards its model is on, when it changes the weights."""
    discussion = Discussion.objects.select_related("repo", "author").filter(pk=discussion_id).first()
    if discussion is None or not discussion.is_pull_request or discussion.repo.type != RepoType.MODEL:
        return []
    repo = discussion.repo
    boards = list(Leaderboard.objects.filter(entries__model_repo=repo, entries__current=True).distinct())
    if not boards:
        return []
    target = ref_target(repo=repo, ref=discussion.target_ref or f"refs/heads/{repo.default_branch}")
    if _weights(repo, commit_oid) == _weights(repo, target):
        return []
    made = []
    for board in boards:
        try:
            made.append(
                entry_submit(
                    board=board,
                    user=discussion.author,
                    model=repo.repo_id,
                    revision=commit_oid,
                    source=EntrySource.PULL_REQUEST,
                    pull_request=discussion.num,
                ).entry.pk
            )
        except HubError as exc:
            logger.info(
                "pull request %s of %s not evaluated on %s: %s",
                discussion.num,
                repo.repo_id,
                board.board_id,
                exc.message,
            )
    return made
