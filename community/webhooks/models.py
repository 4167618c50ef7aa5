"""Webhooks, what they watch, and the log of their deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from community.webhooks.choices import DeliveryState, WatchKind


class Webhook(models.Model):
    """A receiver URL ``owner`` registered for events of what it watches, in ``domains``."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    secret = models.CharField(max_length=200, blank=True)
    domains = models.JSONField(default=list)  # WebhookDomain values
    disabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"webhook {self.pk} → {self.url}"


class WebhookWatch(models.Model):
    """One watched item: a repository (``name`` is ``namespace/name``) or a namespace. ``key`` is
    ``kind:name`` lowercased, the one column events are matched on."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="watched")
    kind = models.CharField(max_length=10, choices=WatchKind.choices)
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=212, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webhook", "key"], name="webhook_watch_unique")]
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class WebhookDelivery(models.Model):
    """One event for one webhook: the payload, its state and how many attempts were made. At most
    one per event and webhook (``event_id`` is the domain event's id, or a test delivery's own)."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=32)
    scope = models.CharField(max_length=50)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when the latest attempt started
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webhook", "event_id"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["webhook", "-id"], name="webhook_delivery_log")]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.scope}, {self.state})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what was sent, what came back, how long it took, and how long
    the next attempt waits (``retry_in``, seconds; null when there is none)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # the first 2,000 characters
    error = models.TextField(blank=True)
    retry_in = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
