"""Hands every domain event that can concern a person to a task (connected in ``apps``)."""

from __future__ import annotations

from django.dispatch import receiver

from common.events import Event, EventKind, hub_event

NOTIFIED = frozenset(
    {
        EventKind.DISCUSSION_OPENED, EventKind.DISCUSSION_COMMENTED, EventKind.DISCUSSION_STATUS,
        EventKind.REVIEW_REQUESTED, EventKind.REVIEW_SUBMITTED, EventKind.CHECKS_FAILED,
        EventKind.RUN_FINISHED, EventKind.ACCESS_REQUEST_DECIDED,
    }
)  # fmt: skip


@receiver(hub_event, dispatch_uid="notifications-for-events")
def notify(sender, *, event: Event, **kwargs) -> None:
    from community.notifications.tasks import notifications_for_event_task

    if event.kind in NOTIFIED:
        notifications_for_event_task.delay_on_commit(event.as_dict())
