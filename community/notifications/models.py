"""Notifications in people's inboxes and their settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from community.notifications.choices import NotificationKind


class Notification(models.Model):
    """One entry of ``recipient``'s inbox, made from the domain event ``event_id`` (one per person and
    event, whatever the number of reasons they have to hear of it)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    event_id = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)  # an excerpt: the comment, the rejection reason
    path = models.CharField(max_length=500)  # where it points, after the path prefix
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event_id"], name="notification_once_per_event"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "-id"], name="notification_inbox")]

    def __str__(self) -> str:
        return self.title


class NotificationSetting(models.Model):
    """Whether ``user`` wants ``kind`` in the inbox and by email; without a row, ``choices.DEFAULTS``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    inbox = models.BooleanField(default=True)
    email = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_setting_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: inbox={self.inbox} email={self.email}"
