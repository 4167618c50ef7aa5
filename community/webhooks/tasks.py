from celery import shared_task

from common.events import Event
from community.webhooks.services.deliveries import (
    webhook_backoff_seconds,
    webhook_deliveries_create,
    webhook_delivery_attempt,
)


@shared_task(acks_late=True)
def webhooks_for_event_task(event: dict) -> None:
    """Create the deliveries of an event and send each (safe to run twice: one delivery per hook)."""
    for delivery_id in webhook_deliveries_create(event=Event.from_dict(event)):
        webhook_deliver_task.delay_on_commit(delivery_id)


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int, retry: bool = True) -> None:
    """One attempt; a failure the service wants retried comes back after an exponential backoff.
    (The number of attempts is the delivery's own, so Celery's retry count is not the limit.)"""
    attempt = webhook_delivery_attempt(delivery_id=delivery_id, retry=retry)
    if attempt is not None and attempt.retry_in is not None:
        raise self.retry(countdown=webhook_backoff_seconds(attempt=attempt.number))
