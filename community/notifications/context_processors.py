"""``notifications_unread``: the count in the site header, read lazily — pages that do not show
the header, and anonymous visitors, cost nothing; others one cached COUNT (``selectors``)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def unread(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        from community.notifications.selectors import notifications_unread_count

        return notifications_unread_count(user=user)

    return {"notifications_unread": SimpleLazyObject(count)}
