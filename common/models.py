"""Operational state shared by every app."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a worker consuming ``queue`` ran :func:`common.tasks.worker_heartbeat`."""

    queue = models.CharField(max_length=32, unique=True)
    hostname = models.CharField(max_length=255)
    beats = models.PositiveBigIntegerField(default=0)
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.queue}@{self.hostname}"
