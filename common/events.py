"""Domain events: one way for the apps to announce what happened without importing the apps that react.

A service that changed something calls :func:`emit` inside its transaction; once the transaction
commits, :data:`hub_event` is sent with the :class:`Event`, and receivers (notifications, webhooks)
hand the work to a task. An event is plain data — ids, names and a ``data`` dict of JSON values —
so it travels to a task as it is (:meth:`Event.as_dict` / :meth:`Event.from_dict`) and still
describes a repository that has since been deleted.

Emitters, one line per operation:

- ``registry.services.refs.ref_compare_and_swap`` (every ref move: commits, merges, pushes,
  history rewrites) — ``repo.updated``; ``registry.services.repos`` — ``repo.created``,
  ``repo.deleted``, ``repo.moved``, ``repo.config``; ``registry.services.access_requests`` —
  ``access_request.decided``;
- ``community.services.discussions`` (``discussion_event``) — ``discussion.opened``,
  ``discussion.commented``, ``discussion.status``, ``review.requested``, ``review.submitted``, and
  ``checks.failed`` through ``pull_request_checks_failed``, the call for whatever runs checks;
- ``training_runner.jobs.services.lifecycle`` — ``run.finished``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

#: Sent once the transaction that emitted the event has committed, with ``event`` (an :class:`Event`).
hub_event = Signal()


class EventKind(StrEnum):
    REPO_CREATED = "repo.created"
    REPO_DELETED = "repo.deleted"
    REPO_MOVED = "repo.moved"
    REPO_CONFIG = "repo.config"  # visibility or gating changed
    REPO_UPDATED = "repo.updated"  # a ref moved: data {ref, old, new}
    DISCUSSION_OPENED = "discussion.opened"  # data {content}: the description
    DISCUSSION_COMMENTED = "discussion.commented"  # data {comment_id, content} (people are @mentioned in it)
    DISCUSSION_STATUS = "discussion.status"  # data {status, content?}: open (reopened), closed, merged
    REVIEW_REQUESTED = "review.requested"  # user_ids: the reviewers asked
    REVIEW_SUBMITTED = "review.submitted"  # data {review, comment_id, content}
    CHECKS_FAILED = "checks.failed"  # data {check, summary}
    CHECK_REPORTED = "check.reported"  # data {name, state, summary, commit, details_url}: any report
    RUN_FINISHED = "run.finished"  # data {state, kind, url}; user_ids: the submitter
    ACCESS_REQUEST_DECIDED = "access_request.decided"  # data {status, reason}; user_ids: who asked


@dataclass(frozen=True)
class RepoSnapshot:
    """The repository an event is about, as it was when the event happened."""

    id: int
    type: str  # RepoType value: model, dataset, tutorial
    namespace: str
    name: str
    private: bool
    head_sha: str = ""
    former_id: str = ""  # repo.moved: the id it had before

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class DiscussionSnapshot:
    id: int
    num: int
    title: str
    is_pull_request: bool
    status: str
    author_id: int | None


@dataclass(frozen=True)
class Event:
    """What happened, who did it, and to what. ``user_ids`` names people the event is addressed
    to beyond the watchers of its repository (the reviewers asked, the person whose request was
    decided, the submitter of a run)."""

    kind: EventKind
    actor_id: int | None = None
    repo: RepoSnapshot | None = None
    discussion: DiscussionSnapshot | None = None
    user_ids: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: str = field(default_factory=lambda: timezone.now().isoformat())

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> Event:
        value = dict(value)
        value["kind"] = EventKind(value["kind"])
        value["repo"] = RepoSnapshot(**value["repo"]) if value.get("repo") else None
        value["discussion"] = DiscussionSnapshot(**value["discussion"]) if value.get("discussion") else None
        value["user_ids"] = tuple(value.get("user_ids") or ())
        return cls(**value)


def emit(event: Event) -> Event:
    """Announce ``event`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: hub_event.send(sender=Event, event=event))
    return event
