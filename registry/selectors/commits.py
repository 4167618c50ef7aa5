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


def commit_ancestors(*, repo: Repo, head: GitCommit) -> dict[str, GitCommit]:
    """Every commit reachable from ``head`` (itself included), by id; one query per window of
    generations."""
    commits, _ = commit_history(repo=repo, head=head, offset=0, limit=10_000_000)
    return {commit.oid: commit for commit in commits}


def is_ancestor(*, repo: Repo, ancestor: GitCommit, descendant: GitCommit) -> bool:
    """True when ``ancestor`` is reachable from ``descendant`` (a commit is its own ancestor)."""
    if ancestor.generation > descendant.generation:
        return False
    return ancestor.oid in commit_ancestors(repo=repo, head=descendant)


def merge_base(*, repo: Repo, left: GitCommit, right: GitCommit) -> GitCommit | None:
    """The newest common ancestor (by generation) of two commits; None when their histories never
    met."""
    ours = commit_ancestors(repo=repo, head=left)
    common = [commit for oid, commit in commit_ancestors(repo=repo, head=right).items() if oid in ours]
    return max(common, key=lambda commit: (commit.generation, commit.authored_at), default=None)
