"""Reads of webhooks: a person's own hooks and their delivery log."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from common.errors import NotFound
from community.webhooks.models import Webhook, WebhookDelivery, WebhookWatch


def webhooks_list(*, user) -> QuerySet[Webhook]:
    watched = Prefetch("watched", queryset=WebhookWatch.objects.order_by("pk"))
    return Webhook.objects.filter(owner=user).prefetch_related(watched).order_by("pk")


def webhook_get(*, user, webhook_id: int | str) -> Webhook:
    """``user``'s webhook ``webhook_id``; ``NotFound`` for anyone else's (whose existence is not told)."""
    webhook = webhooks_list(user=user).filter(pk=webhook_id).first() if str(webhook_id).isdigit() else None
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return webhook


def webhook_deliveries_list(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    return webhook.deliveries.prefetch_related("log").order_by("-pk")


def webhook_delivery_get(*, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    delivery = webhook.deliveries.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"Delivery {delivery_id} not found.")
    return delivery
