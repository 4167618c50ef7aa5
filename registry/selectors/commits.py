"""Commit history."""

from __future__ import annotations

from registry.models import GitCommit, Repo

# Commits fetched per query while walking history (a window of generations).
HISTORY_WINDOW = 200


def commit_history(*, repo: Repo, head: GitCommit, offset: int = 0, limit: int = 50) -> tuple[list[GitCommit], bool]:
    """Commits reachable from ``head``, newest first (by generation, then date).

    Returns the page and whether more commits follow. Ancestors always have a lower generation
    than their descendants, so history is read in windows of generations, one query each.
    """
    reachable = {head.oid}
    ordered: list[GitCommit] = []
    wanted = offset + limit + 1
    upper = head.generation
    while upper >= 0 and len(ordered) < wanted and reachable:
        window = GitCommit.objects.filter(
            repo=repo, generation__lte=upper, generation__gt=upper - HISTORY_WINDOW
        ).order_by("-generation", "-authored_at", "-id")
        for commit in window:
            if commit.oid in reachable:
                ordered.append(commit)
                reachable.update(commit.parents)
        upper -= HISTORY_WINDOW
    page = ordered[offset : offset + limit]
    return page, len(ordered) > offset + limit


def commit_count(*, repo: Repo, head: GitCommit) -> int:
    """How many commits ``head``'s history holds (for the commit counter on pages)."""
    commits, _ = commit_history(repo=repo, head=head, offset=0, limit=10_000_000)
    return len(commits)
