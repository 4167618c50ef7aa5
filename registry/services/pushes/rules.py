"""The rules of a push: who may move which ref, and how a ref may move (fast-forward only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from common.errors import HubError, ValidationError
from registry.access import Permission, repo_role
from registry.hooks import RefAction, pull_request_refs, ref_guards_check
from registry.models import Repo
from registry.services.refs import ref_name_validate


@dataclass(frozen=True)
class RefUpdate:
    """One command of a push: ``old`` is the value the client saw (None: absent), ``new`` the
    value it asks for (None: delete)."""

    name: str
    old: str | None
    new: str | None


@dataclass
class RefResult:
    name: str
    error: str | None = None


class PushRefused(ValidationError):
    code = "push_refused"


def ref_update_check(
    *, repo: Repo, user, update: RefUpdate, current: str | None, is_ancestor: Callable[[str, str], bool]
) -> str | None:
    """Why ``update`` may not happen (None: it may), given the ref's ``current`` value.

    The one place a push decides about a ref: the ref guards (``registry.hooks``: branch rules)
    are asked first; no ref moves other than forward.
    """
    if current != update.old:
        return "stale info: the ref moved since you fetched; fetch, merge or rebase, and push again"
    if update.name.startswith("refs/heads/"):
        try:
            action = RefAction.DELETE if update.new is None else RefAction.COMMIT
            ref_guards_check(repo=repo, user=user, ref=update.name, action=action)
        except HubError as error:
            return error.message
    if update.new is None:
        if update.name == f"refs/heads/{repo.default_branch}":
            return f"cannot delete {update.name}: it is the default branch"
        if update.name.startswith("refs/pr/"):
            return "pull request refs cannot be deleted; close the pull request instead"
        return None
    if update.name.startswith("refs/tags/"):
        return None if update.old is None else f"tag {update.name[10:]} already exists; tags do not move"
    if update.old is not None and not is_ancestor(update.old, update.new):
        return "non-fast-forward: the push would drop commits from the ref; fetch and merge or rebase first"
    return None


def ref_permission_error(*, repo: Repo, user, update: RefUpdate) -> str | None:
    """Who may move this ref, checked before the pack is read."""
    name = update.name
    try:
        if name.startswith("refs/heads/"):
            ref_name_validate(name[11:], kind="branch")
        elif name.startswith("refs/tags/"):
            ref_name_validate(name[10:], kind="tag")
        elif name.startswith("refs/pr/") and name[8:].isdigit():
            pull_request_refs().check_push(repo=repo, user=user, num=int(name[8:]))
            return None
        else:
            return "only branches (refs/heads/*), tags (refs/tags/*) and pull requests (refs/pr/N) can be pushed"
    except HubError as error:
        return error.message
    role = repo_role(user=user, repo=repo)
    if role is None or role < Permission.WRITE:
        return f"you are not allowed to write to {repo.repo_id}; push to a pull request (refs/pr/N) instead"
    return None
