"""Extension points of ref updates, for the app that owns pull requests and branch rules
(ARCHITECTURE.md §3: the registry reacts to a higher layer through a registered hook, never an
import).

A git push to ``refs/pr/N`` is received by the registry, but whether that pull request exists, is
open and takes the pusher's commits is the community app's to say, and so is recording the
commits in its timeline. The app registers a :class:`PullRequestRefs` in its ``AppConfig.ready``;
without one, pushes to ``refs/pr/N`` are refused. Ref guards (:func:`ref_guards_check`) are
asked before a branch takes a commit, is deleted or has its history rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from common.errors import ValidationError


class PullRequestRefs(Protocol):
    def check_push(self, *, repo, user, num: int) -> None:
        """Raise a ``HubError`` saying why ``user`` may not move ``refs/pr/<num>`` of ``repo``."""

    def record_commits(self, *, repo, user, num: int, commits: list) -> None:
        """Record ``commits`` (``GitCommit`` rows, parents first) pushed onto ``refs/pr/<num>``,
        inside the push's transaction."""


class _NoPullRequests:
    def check_push(self, *, repo, user, num: int) -> None:
        raise ValidationError("Pull requests are not enabled on this hub.")

    def record_commits(self, *, repo, user, num: int, commits: list) -> None:
        raise ValidationError("Pull requests are not enabled on this hub.")


_pull_request_refs: PullRequestRefs = _NoPullRequests()


def pull_request_refs_register(handler: PullRequestRefs) -> None:
    global _pull_request_refs
    _pull_request_refs = handler


def pull_request_refs() -> PullRequestRefs:
    return _pull_request_refs


# ------------------------------------------------------------------------------------ ref guards


class RefAction:
    """What is about to happen to a branch, for the guards."""

    COMMIT = "commit"  # a commit or a fast-forward push onto it
    DELETE = "delete"
    REWRITE = "rewrite"  # its history replaced (super-squash, permanent deletion of LFS files)


RefGuard = Callable[..., None]
_ref_guards: list[RefGuard] = []


def ref_guard_register(guard: RefGuard) -> None:
    """Add ``guard(*, repo, user, ref, action)``: it raises a ``HubError`` saying why ``action``
    may not happen to ``ref`` (branch rules live in the community app)."""
    if guard not in _ref_guards:
        _ref_guards.append(guard)


def ref_guards_check(*, repo, user, ref: str, action: str) -> None:
    """Ask every registered guard whether ``action`` may happen to ``ref``; the first refusal
    is raised. Called by the registry's services wherever a branch moves, before it moves."""
    for guard in _ref_guards:
        guard(repo=repo, user=user, ref=ref, action=action)
