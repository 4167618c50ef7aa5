"""Notifications: who hears of an event (watchers, participants, people mentioned or addressed),
their inbox entries and emails, reading them, and settings.

Watchers of a repository are its owner, or the members of its organization with the write role
or above. Participants of a discussion are its author and everyone who wrote in it. On a private
repository only people with a role in its namespace hear of anything. Each person gets at most
one notification per event, of the most specific kind that concerns them (a mention beats plain
activity), stored when their settings keep that kind in the inbox and emailed when they ask for
email and have an address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from common.events import Event, EventKind
from community.models import DiscussionEvent
from community.notifications.choices import NotificationKind
from community.notifications.models import Notification, NotificationSetting
from community.notifications.selectors import notification_settings_of, unread_cache_key
from hub.models import User
from hub.permissions import OrgAction
from hub.selectors import namespace_people
from registry.choices import RepoType

# ``@name`` not preceded by a word character, ``@`` or ``/`` (emails, paths): user names as the
# hub allows them (hub.services.namespaces).
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_.-]{0,38})")
MAX_MENTIONS = 50


def mentions_parse(text: str) -> list[str]:
    """The user names ``text`` mentions, first occurrence first, at most ``MAX_MENTIONS``."""
    names: list[str] = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".")
        if name.lower() not in (n.lower() for n in names):
            names.append(name)
    return names[:MAX_MENTIONS]


# The events whose ``content`` (a comment, a description, a review) may mention people.
MENTIONING = frozenset(
    {
        EventKind.DISCUSSION_OPENED,
        EventKind.DISCUSSION_COMMENTED,
        EventKind.DISCUSSION_STATUS,
        EventKind.REVIEW_SUBMITTED,
    }
)


@dataclass(frozen=True)
class Message:
    kind: NotificationKind
    title: str
    body: str
    path: str


def repo_watchers(*, namespace: str) -> set[int]:
    return namespace_people(namespace=namespace, action=OrgAction.WRITE_REPO)


def discussion_participants(*, discussion_id: int, author_id: int | None) -> set[int]:
    writers = DiscussionEvent.objects.filter(discussion_id=discussion_id).exclude(author=None)
    return {author_id, *writers.values_list("author_id", flat=True)} - {None}


def _repo_path(event: Event) -> str:
    repo = event.repo
    return f"/{RepoType(repo.type).url_prefix}{repo.repo_id}"


def _discussion_messages(event: Event, actor: str) -> dict[int, Message]:
    repo, discussion = event.repo, event.discussion
    what = "pull request" if discussion.is_pull_request else "discussion"
    ref = f"#{discussion.num} of {repo.repo_id} ({discussion.title})"
    path = f"{_repo_path(event)}/discussions/{discussion.num}"
    comment = str(event.data.get("content") or "")[:1000]
    everyone = repo_watchers(namespace=repo.namespace) | discussion_participants(
        discussion_id=discussion.id, author_id=discussion.author_id
    )
    messages: dict[int, Message] = {}
    if event.kind == EventKind.DISCUSSION_OPENED:
        general = Message(NotificationKind.DISCUSSION, f"{actor} opened {what} {ref}", comment, path)
    elif event.kind == EventKind.DISCUSSION_COMMENTED:
        general = Message(NotificationKind.DISCUSSION, f"{actor} commented on {ref}", comment, path)
    elif event.kind == EventKind.DISCUSSION_STATUS:
        status = event.data.get("status", "")
        verb = {"open": "reopened", "closed": "closed", "merged": "merged"}.get(status, f"set to {status}")
        general = Message(NotificationKind.STATUS, f"{actor} {verb} {what} {ref}", comment, path)
    elif event.kind == EventKind.REVIEW_SUBMITTED:
        verb = "approved" if event.data.get("review") == "approved" else "requested changes on"
        general = Message(NotificationKind.DISCUSSION, f"{actor} {verb} {ref}", comment, path)
        if discussion.author_id:
            messages[discussion.author_id] = Message(NotificationKind.REVIEW, f"{actor} {verb} {ref}", comment, path)
    elif event.kind == EventKind.REVIEW_REQUESTED:
        general = None
        for user_id in event.user_ids:
            messages[user_id] = Message(
                NotificationKind.REVIEW_REQUESTED, f"{actor} asked for your review of {ref}", comment, path
            )
    elif event.kind == EventKind.CHECKS_FAILED:
        general = None
        check = str(event.data.get("check") or "A check")
        summary = str(event.data.get("summary") or "")[:1000]
        for user_id in {discussion.author_id, *event.user_ids} - {None}:
            messages[user_id] = Message(NotificationKind.CHECKS_FAILED, f"{check} failed on {ref}", summary, path)
    else:
        return {}
    mentioned = mentions_parse(comment) if event.kind in MENTIONING else []
    if mentioned:
        title = f"{actor} mentioned you in {ref}"
        for user_id in User.objects.filter(username__in=mentioned).values_list("pk", flat=True):
            messages.setdefault(user_id, Message(NotificationKind.MENTION, title, comment, path))
    if general is not None:
        for user_id in everyone:
            messages.setdefault(user_id, general)
    if repo.private:  # only people with a role in the namespace see a private repository
        allowed = namespace_people(namespace=repo.namespace, action=OrgAction.READ_PRIVATE_REPOS)
        messages = {user_id: m for user_id, m in messages.items() if user_id in allowed}
    return messages


def event_messages(event: Event) -> dict[int, Message]:
    """Who hears of ``event`` and what they read; never the person who did it."""
    actor_name = "Someone"
    if event.actor_id is not None:
        actor_name = User.objects.filter(pk=event.actor_id).values_list("username", flat=True).first() or actor_name
    if event.discussion is not None and event.repo is not None:
        messages = _discussion_messages(event, actor_name)
    elif event.kind == EventKind.ACCESS_REQUEST_DECIDED:
        status = event.data.get("status", "")
        title = f"Your access request to {event.repo.repo_id} was {status}"
        message = Message(
            NotificationKind.ACCESS_REQUEST, title, str(event.data.get("reason") or ""), _repo_path(event)
        )
        messages = {user_id: message for user_id in event.user_ids}
    elif event.kind == EventKind.RUN_FINISHED:
        data = event.data
        title = f"Your {data.get('kind', '')} run #{data.get('run_id')} {data.get('state')}".replace("  ", " ")
        message = Message(
            NotificationKind.RUN_FINISHED, title, str(data.get("reason") or ""), f"/runs/{data.get('run_id')}"
        )
        messages = {user_id: message for user_id in event.user_ids}
    else:
        messages = {}
    messages.pop(event.actor_id, None)
    return messages


def notifications_for_event(*, event: Event) -> list[Notification]:
    """Store and email what ``event`` means to each person concerned, by their settings. Safe to
    run twice: people who already have this event's notification are skipped."""
    messages = event_messages(event)
    if not messages:
        return []
    done = set(Notification.objects.filter(event_id=event.id).values_list("recipient_id", flat=True))
    wanted = notification_settings_of(user_ids=set(messages) - done)
    emails = dict(User.objects.filter(pk__in=list(wanted), is_active=True).values_list("pk", "email"))
    created, mails = [], []
    for user_id, message in messages.items():
        if user_id not in emails:  # already notified, gone or inactive
            continue
        inbox, email = wanted[user_id][message.kind]
        if inbox:
            created.append(
                Notification(
                    recipient_id=user_id, kind=message.kind, event_id=event.id, actor_id=event.actor_id,
                    title=message.title[:300], body=message.body, path=message.path[:500],
                )
            )  # fmt: skip
        if email and emails[user_id]:
            mails.append((emails[user_id], message))
    with transaction.atomic():
        Notification.objects.bulk_create(created, ignore_conflicts=True)
    cache.delete_many([unread_cache_key(n.recipient_id) for n in created])
    site = settings.HUB_SITE_URL.rstrip("/")
    for address, message in mails:
        text = "\n\n".join(part for part in (message.body, f"{site}{message.path}") if part)
        send_mail(f"[{settings.HUB_SITE_NAME}] {message.title}"[:250], text, None, [address])
    return created


def notification_mark_read(*, user, notification_id: int) -> int:
    """Mark one of ``user``'s notifications read; how many changed (0 or 1)."""
    changed = Notification.objects.filter(recipient=user, pk=notification_id, read_at=None).update(
        read_at=timezone.now()
    )
    cache.delete(unread_cache_key(user.pk))
    return changed


def notifications_mark_all_read(*, user) -> int:
    changed = Notification.objects.filter(recipient=user, read_at=None).update(read_at=timezone.now())
    cache.delete(unread_cache_key(user.pk))
    return changed


def notification_settings_update(*, user, choices: dict[str, tuple[bool, bool]]) -> None:
    """Set ``(inbox, email)`` for the kinds in ``choices`` (unknown kinds are a bug of the caller)."""
    for kind, (inbox, email) in choices.items():
        NotificationKind(kind)
        NotificationSetting.objects.update_or_create(user=user, kind=kind, defaults={"inbox": inbox, "email": email})
