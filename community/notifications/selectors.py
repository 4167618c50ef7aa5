"""Reads of the inbox: the list, the unread count (cached per person) and settings."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import QuerySet

from community.notifications.choices import DEFAULTS, NotificationKind
from community.notifications.models import Notification, NotificationSetting

UNREAD_CACHE_SECONDS = 300


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def notifications_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(recipient=user).select_related("actor").order_by("-id")
    return rows.filter(read_at=None) if unread_only else rows


def notifications_unread_count(*, user) -> int:
    """How many unread notifications ``user`` has: one COUNT, kept in the cache until a
    notification arrives or is read (``services`` forget it then)."""
    key = unread_cache_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(recipient=user, read_at=None).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def notification_settings_of(*, user_ids: list[int] | set[int]) -> dict[int, dict[str, tuple[bool, bool]]]:
    """``{user_id: {kind: (inbox, email)}}`` for every kind, defaults filled in."""
    table = {user_id: dict(DEFAULTS) for user_id in user_ids}
    for row in NotificationSetting.objects.filter(user_id__in=list(user_ids)):
        table[row.user_id][row.kind] = (row.inbox, row.email)
    return table


def notification_settings_rows(*, user) -> list[tuple[str, str, bool, bool]]:
    """``(kind, label, inbox, email)`` for the settings page, in the order of ``NotificationKind``."""
    chosen = notification_settings_of(user_ids={user.pk})[user.pk]
    return [(kind.value, kind.label, *chosen[kind.value]) for kind in NotificationKind]
