"""What a working run writes while it works: metrics, log lines, progress and its heartbeat.

The training loop must not wait for the database, so ``RunRecorder`` only appends to buffers on
the worker's main thread; a background thread writes them every ``flush_seconds`` together with
the heartbeat, and reads back whether the run was cancelled or taken over by another attempt
(``should_stop``). Every write is conditional on this attempt still owning the run.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from training_runner.jobs.choices import LogLevel, MetricEvent, RunState
from training_runner.jobs.models import Run, RunLogLine, RunMetric

logger = logging.getLogger(__name__)

MAX_LOG_LINE = 4000
# Set when this worker process is asked to stop (``tasks.py`` hears Celery's warm shutdown): a
# working run then stops at its next step, keeps a checkpoint, and is queued again to resume.
WORKER_STOPPING = threading.Event()


class RunRecorder:
    """Buffered writer of one attempt of a run; use as a context manager around the work."""

    def __init__(self, *, run: Run, flush_seconds: float = 1.0) -> None:
        self.run_id, self.attempt = run.pk, run.attempt
        self.flush_seconds = min(flush_seconds, settings.HUB_RUN_HEARTBEAT_SECONDS)
        self.step, self.total_steps = run.step, run.total_steps
        self.progress: dict[str, Any] = dict(run.progress or {})
        self.cancel_requested = run.cancel_requested_at is not None
        self.superseded = False
        self._metrics: list[RunMetric] = []
        self._lines: list[RunLogLine] = []
        self._dirty = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- called by the work (any thread) --------------------------------------------------------

    def metric(self, values: dict[str, Any]) -> None:
        """One event of the training core's metrics stream (``{"event": "train" | "eval", ...}``)."""
        event = MetricEvent(values.get("event", MetricEvent.TRAIN))
        row = RunMetric(run_id=self.run_id, event=event, step=int(values.get("step", 0)), values=values)
        with self._lock:
            self._metrics.append(row)
            if event == MetricEvent.TRAIN:
                self.step = row.step
            self._dirty = True

    def log(self, message: str, *, level: LogLevel = LogLevel.INFO) -> None:
        line = RunLogLine(run_id=self.run_id, at=timezone.now(), level=level, message=message[:MAX_LOG_LINE])
        with self._lock:
            self._lines.append(line)
            self._dirty = True

    def update(self, *, step: int | None = None, total_steps: int | None = None, **progress: Any) -> None:
        """Merge ``progress`` into the run's progress (stage, tokens/s, ETA, task scores...)."""
        with self._lock:
            if step is not None:
                self.step = step
            if total_steps is not None:
                self.total_steps = total_steps
            self.progress.update(progress)
            self._dirty = True

    def should_stop(self) -> bool:
        return self.cancel_requested or self.superseded or WORKER_STOPPING.is_set()

    @property
    def worker_stopping(self) -> bool:
        """The stop comes from this worker shutting down, not from the run's owner."""
        return WORKER_STOPPING.is_set() and not self.cancel_requested

    def stdout(self) -> io.TextIOBase:
        """A text stream whose lines become log lines (for what the core prints)."""
        return _LineWriter(self)

    # -- writing --------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what is buffered, refresh the heartbeat, read cancellation (one short transaction)."""
        with self._lock:
            metrics, self._metrics = self._metrics, []
            lines, self._lines = self._lines, []
            fields = {"step": self.step, "total_steps": self.total_steps, "progress": dict(self.progress)}
            self._dirty = False
        owned = Run.objects.filter(pk=self.run_id, attempt=self.attempt, state=RunState.RUNNING)
        updated = owned.update(heartbeat_at=timezone.now(), updated_at=timezone.now(), **fields)
        if not updated:
            self.superseded = True
            return
        if metrics:
            RunMetric.objects.bulk_create(metrics)
        if lines:
            RunLogLine.objects.bulk_create(lines)
        if not self.cancel_requested:
            self.cancel_requested = owned.filter(cancel_requested_at__isnull=False).exists()

    def _loop(self) -> None:
        last = time.monotonic()
        try:
            while not self._stop.wait(self.flush_seconds / 4):
                now = time.monotonic()
                if now - last >= self.flush_seconds or (self._dirty and now - last >= self.flush_seconds / 2):
                    last = now
                    try:
                        self.flush()
                    except Exception:
                        logger.exception("run %s: recording failed; retrying", self.run_id)
                        close_old_connections()
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> RunRecorder:
        self._thread = threading.Thread(target=self._loop, name=f"run-{self.run_id}-recorder", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()


class _LineWriter(io.TextIOBase):
    """Buffers text and hands complete lines to the recorder."""

    def __init__(self, recorder: RunRecorder) -> None:
        self._recorder, self._pending = recorder, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        for line in complete:
            if line.strip():
                self._recorder.log(line.rstrip())
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._recorder.log(self._pending.rstrip())
        self._pending = ""
