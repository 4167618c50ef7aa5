"""Files at a revision, and the last commit that changed each of them."""

from __future__ import annotations

from registry.models import GitCommit, Repo
from registry.selectors.commits import commit_history
from registry.trees import FileInfo, FolderInfo, tree_lookup

# How far back ``last_commits`` looks before giving up on a path (older paths get the oldest
# commit examined).
LAST_COMMIT_SCAN = 1000


def last_commits(*, repo: Repo, head: GitCommit, paths: list[str]) -> dict[str, GitCommit]:
    """For each path, the newest commit in ``head``'s history that changed it."""
    pending = {path: _oid_at(head.tree_oid, path) for path in paths}
    result: dict[str, GitCommit] = {}
    history, _ = commit_history(repo=repo, head=head, offset=0, limit=LAST_COMMIT_SCAN)
    by_oid = {commit.oid: commit for commit in history}
    for commit in history:
        if not pending:
            break
        parent = by_oid.get(commit.parents[0]) if commit.parents else None
        for path in list(pending):
            before = _oid_at(parent.tree_oid, path) if parent is not None else None
            if before != pending[path] or parent is None:
                result[path] = commit
                del pending[path]
    if pending and history:
        for path in pending:
            result[path] = history[-1]
    return result


def _oid_at(tree_oid: str, path: str) -> str | None:
    info = tree_lookup(tree_oid, path)
    if isinstance(info, (FileInfo, FolderInfo)):
        return info.oid
    return None
