"""Extension points of ref updates, for the app that owns pull requests (ARCHITECTURE.md §3: the
registry reacts to a higher layer through a registered hook, never an import).

A git push to ``refs/pr/N`` is received by the registry, but whether that pull request exists, is
open and takes the pusher's commits is the community app's to say, and so is recording the
commits in its timeline. The app registers a :class:`PullRequestRefs` in its ``AppConfig.ready``;
without one, pushes to ``refs/pr/N`` are refused.
"""

from __future__ import annotations

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
