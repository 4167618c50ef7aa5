from celery import shared_task

from common.events import Event
from community.notifications.services import notifications_for_event


@shared_task(acks_late=True)
def notifications_for_event_task(event: dict) -> None:
    """Fan an event out to inboxes and mailboxes (safe to run twice)."""
    notifications_for_event(event=Event.from_dict(event))
