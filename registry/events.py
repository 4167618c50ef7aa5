"""The registry's events (``common.events``): snapshots of repositories for them, and the one
helper every ref move goes through."""

from __future__ import annotations

from common.events import Event, EventKind, RepoSnapshot, emit
from registry.models import Repo


def repo_snapshot(*, repo: Repo, head_sha: str = "", former_id: str = "") -> RepoSnapshot:
    return RepoSnapshot(
        id=repo.pk, type=repo.type, namespace=repo.namespace.name, name=repo.name, private=repo.private,
        head_sha=head_sha, former_id=former_id,
    )  # fmt: skip


def repo_event(*, kind: EventKind, repo: Repo, actor=None, head_sha: str = "", former_id: str = "", **data) -> Event:
    """Emit ``kind`` about ``repo`` once the transaction commits."""
    return emit(
        Event(
            kind=kind,
            actor_id=getattr(actor, "pk", None),
            repo=repo_snapshot(repo=repo, head_sha=head_sha, former_id=former_id),
            data=data,
        )
    )


def ref_moved(*, repo: Repo, name: str, old: str | None, new: str | None) -> Event:
    """``repo.updated``: ``name`` moved from ``old`` to ``new`` (``None``: absent)."""
    head = (new or "") if name == f"refs/heads/{repo.default_branch}" else ""
    return repo_event(kind=EventKind.REPO_UPDATED, repo=repo, head_sha=head, ref=name, old=old, new=new)
