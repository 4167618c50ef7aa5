"""The Celery application and the one table of queue routes.

Queues: ``default`` for short CPU work (card parsing, counters, scans, janitors) and ``gpu`` for
training and evaluation runs, served by one worker per GPU with concurrency 1.
"""

import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hub", task_cls="celery.contrib.django.task:DjangoTask")


@setup_logging.connect
def _django_logging(**_kwargs) -> None:
    """Workers and beat log as the web process does (``LOGGING``, one format per ``LOG_FORMAT``):
    with a receiver on this signal Celery leaves the logging configuration to it."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _task_metrics(**_kwargs) -> None:
    """Task durations for /metrics (common/metrics.py)."""
    from common.metrics import celery_signals_connect

    celery_signals_connect()


QUEUE_DEFAULT = "default"
QUEUE_GPU = "gpu"

app.conf.task_queues = (Queue(QUEUE_DEFAULT), Queue(QUEUE_GPU))
app.conf.task_default_queue = QUEUE_DEFAULT
# Every route in one place: a task module never names its queue itself.
app.conf.task_routes = {
    "training_runner.jobs.tasks.run_execute_task": {"queue": QUEUE_GPU},
    "*": {"queue": QUEUE_DEFAULT},
}
app.conf.beat_schedule = {
    **{
        f"heartbeat-{queue}": {
            "task": "common.tasks.worker_heartbeat",
            "schedule": 30.0,
            "args": (queue,),
            "options": {"queue": queue},
        }
        for queue in (QUEUE_DEFAULT, QUEUE_GPU)
    },
    "staging-janitor": {"task": "registry.tasks.staging_janitor", "schedule": 3600.0},
    "counters-refresh": {"task": "registry.tasks.counters_refresh_task", "schedule": 600.0},
    "xet-collect": {"task": "registry.tasks.xet_collect_task", "schedule": 24 * 3600.0},
    "runs-watchdog": {"task": "training_runner.jobs.tasks.runs_watchdog_task", "schedule": 30.0},
}
if settings.HUB_DEMO:
    app.conf.beat_schedule["demo-follow-up"] = {"task": "frontend.tasks.demo_follow_up_task", "schedule": 30.0}
app.autodiscover_tasks()
