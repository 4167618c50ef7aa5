"""Health endpoints, readiness failures, Sentry reporting and structured logs."""

import json
import logging
import subprocess
import sys

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from common.logging import JsonFormatter, request_id_var
from common.observability import sentry_init
from tests.support.processes import REPO_ROOT, subprocess_env


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response["X-Request-Id"]) == 32


@pytest.mark.django_db
def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_readyz_fails_when_the_database_is_unreachable():
    script = (
        "import django, json; django.setup();"
        "from django.test import Client; r = Client().get('/readyz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    # Nothing listens on port 1: a real, unreachable PostgreSQL server.
    env = subprocess_env(DATABASE_URL="postgres://hub@127.0.0.1:1/hub?connect_timeout=2")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["status"] == "unavailable"
    assert answer["body"]["checks"]["database"]["ok"] is False
    assert "OperationalError" in answer["body"]["checks"]["database"]["detail"]


class _CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


def test_sentry_captures_an_exception_in_a_view(client, settings):
    transport = _CapturingTransport()
    sentry_init(dsn="http://key@127.0.0.1:9/1", environment="test", traces_sample_rate=0.0, transport=transport)
    try:
        settings.ROOT_URLCONF = "tests.support.failing_urls"
        client.raise_request_exception = False
        response = client.get("/boom")
        sentry_sdk.flush()
        assert response.status_code == 500
        events = [item.payload.json for env in transport.envelopes for item in env.items if item.type == "event"]
        assert len(events) == 1
        exception = events[0]["exception"]["values"][-1]
        assert exception["type"] == "RuntimeError"
        assert exception["value"] == "boom from a view"
        assert events[0]["environment"] == "test"
        assert events[0]["transaction"] == "/boom"
    finally:
        sentry_sdk.init(dsn=None)


def test_json_logs_carry_request_id_and_extra_fields():
    record = logging.makeLogRecord({"name": "hub.test", "levelname": "INFO", "msg": "hello %s", "args": ("world",)})
    record.repo = "alice/tiny"
    token = request_id_var.set("req-123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-123"
    assert line["repo"] == "alice/tiny"
    assert line["level"] == "INFO"
