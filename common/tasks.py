"""Operational tasks."""

from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from common.models import WorkerHeartbeat


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self, queue: str) -> None:
    """Record that a worker consuming ``queue`` is alive (beat sends one per queue).

    Safe to run twice: it only moves ``last_seen_at`` forward and counts beats.
    """
    now = timezone.now()
    hostname = self.request.hostname or "unknown"
    updated = WorkerHeartbeat.objects.filter(queue=queue).update(
        beats=F("beats") + 1, last_seen_at=now, hostname=hostname
    )
    if not updated:
        _, created = WorkerHeartbeat.objects.get_or_create(
            queue=queue, defaults={"hostname": hostname, "beats": 1, "last_seen_at": now}
        )
        if not created:
            WorkerHeartbeat.objects.filter(queue=queue).update(
                beats=F("beats") + 1, last_seen_at=now, hostname=hostname
            )
