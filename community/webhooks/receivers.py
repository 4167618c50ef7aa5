"""Hands the events hooks carry to a task (connected in ``apps``)."""

from __future__ import annotations

from django.dispatch import receiver

from common.events import Event, hub_event
from community.webhooks.services.payloads import SCOPES


@receiver(hub_event, dispatch_uid="webhooks-for-events")
def dispatch(sender, *, event: Event, **kwargs) -> None:
    from community.webhooks.tasks import webhooks_for_event_task

    if event.kind in SCOPES and event.repo is not None:
        webhooks_for_event_task.delay_on_commit(event.as_dict())
