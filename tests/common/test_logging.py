"""Logs: the Celery processes log in the web process's format (JSON lines by default, one format
per ``LOG_FORMAT``), and the 404s of files clients merely probe for are INFO, not warnings."""

import json
import logging
import re

import pytest
from django.conf import settings
from django.test import Client

from common.tasks import worker_heartbeat
from config.celery import QUEUE_DEFAULT, app
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user
from tests.support.processes import celery_worker, wait_until


@pytest.mark.django_db
def test_probes_for_missing_files_are_info_and_other_404s_stay_warnings(caplog):
    repo = make_repo(make_user("alice"), "tiny")
    commit_files(repo, repo.namespace.user, {"config.json": b"{}"})
    caplog.set_level(logging.INFO, logger="django.request")
    assert Client().get("/alice/tiny/resolve/main/generation_config.json").status_code == 404
    assert Client().get("/alice/tiny/nothing/here").status_code == 404
    records = [(record.levelname, record.getMessage()) for record in caplog.records if record.name == "django.request"]
    assert records == [
        ("INFO", "Not Found: /alice/tiny/resolve/main/generation_config.json"),
        ("WARNING", "Not Found: /alice/tiny/nothing/here"),
    ]


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_worker_logs_json_lines_like_the_web_process():
    assert settings.LOG_FORMAT == "json"
    with celery_worker(queues=QUEUE_DEFAULT, name="test-logs") as worker:
        with app.connection_for_write() as connection:
            app.send_task(worker_heartbeat.name, args=(QUEUE_DEFAULT,), queue=QUEUE_DEFAULT, connection=connection)
        from common.models import WorkerHeartbeat

        wait_until(
            lambda: WorkerHeartbeat.objects.filter(queue=QUEUE_DEFAULT).exists() or worker.poll() is not None,
            timeout=90,
            what="the worker to run a task",
        )
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    lines = output.splitlines()
    # Celery's own log lines ("[2026-01-01 12:00:00,000: INFO/MainProcess] …") are gone: every log
    # record is a JSON object (the start-up banner is printed, not logged).
    assert [line for line in lines if re.match(r"^\[\d{4}-\d\d-\d\d ", line)] == []
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert all({"time", "level", "logger", "message", "request_id"} <= set(record) for record in records)
    messages = [record["message"] for record in records]
    assert any(message.startswith("Task common.tasks.worker_heartbeat[") for message in messages), messages
    assert [record for record in records if record["level"] in {"ERROR", "CRITICAL"}] == []
