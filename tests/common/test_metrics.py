"""/metrics: Prometheus counters after a known set of requests, the scrape-time gauges, access."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_token, make_user
from training_runner.jobs.choices import RunKind, RunState
from training_runner.jobs.models import Run

pytestmark = pytest.mark.django_db


def scrape(client, **extra) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_request_counters_latencies_and_bytes_match_the_requests_made(client):
    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    content = b"one\ntwo\nthree\n" * 100
    commit_files(repo, alice, {"data.txt": content}, summary="Data")
    token = make_token(alice)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    before = scrape(client)
    infos = [client.get("/api/models/alice/tiny", **auth) for _ in range(3)]
    download = client.get("/alice/tiny/resolve/main/data.txt", **auth)
    missing = client.get("/api/no-such-endpoint", **auth)
    body = json.dumps({"name": "second", "type": "model"}).encode()
    created = client.post("/api/repos/create", body, content_type="application/json", **auth)
    after = scrape(client)

    assert [r.status_code for r in infos] == [200, 200, 200]
    assert (download.status_code, missing.status_code, created.status_code) == (200, 404, 200)
    info_route = infos[0].resolver_match.route
    resolve_route = download.resolver_match.route
    create_route = created.resolver_match.route
    assert "<" in info_route  # the pattern, not the path
    assert "alice" not in info_route

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("hub_http_requests_total", method="GET", route=info_route, status="200") == 3
    assert delta("hub_http_request_duration_seconds_count", method="GET", route=info_route) == 3
    assert delta("hub_http_request_duration_seconds_sum", method="GET", route=info_route) > 0
    assert delta("hub_http_requests_total", method="GET", route=resolve_route, status="200") == 1
    assert delta("hub_http_sent_bytes_total", route=resolve_route) == len(content)
    assert delta("hub_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert delta("hub_http_requests_total", method="POST", route=create_route, status="200") == 1
    assert delta("hub_http_received_bytes_total", route=create_route) == len(body)
    # The first scrape is not counted as a request of its own.
    assert not any(name == "hub_http_requests_total" and ("route", "/metrics") in labels for name, labels in after)


def test_run_states_are_counted_at_each_scrape(client):
    user = make_user("runner")
    now = timezone.now()
    Run.objects.create(kind=RunKind.EVALUATION, user=user, reason="Submitted.", queued_at=now)
    Run.objects.create(kind=RunKind.EVALUATION, user=user, reason="Submitted.", queued_at=now)
    Run.objects.create(kind=RunKind.EVALUATION, user=user, state=RunState.FAILED, reason="Broke.", queued_at=now)

    samples = scrape(client)

    expected = {state.value: 0 for state in RunState} | {RunState.QUEUED.value: 2, RunState.FAILED.value: 1}
    assert {state: value(samples, "hub_runs", state=state) for state in expected} == expected


def test_celery_queue_lengths_come_from_the_broker(client):
    from config.celery import app
    from tests.support.processes import publishing_to

    app.control.purge()
    before = scrape(client)
    with publishing_to(None):
        from common.tasks import worker_heartbeat

        worker_heartbeat.apply_async(args=["default"], queue="default")
        worker_heartbeat.apply_async(args=["gpu"], queue="gpu")
        worker_heartbeat.apply_async(args=["gpu"], queue="gpu")
        after = scrape(client)
    app.control.purge()

    assert value(before, "hub_celery_broker_up") == 1

    def lengths(samples):
        return {queue: value(samples, "hub_celery_queue_length", queue=queue) for queue in ("default", "gpu")}

    assert lengths(before) == {"default": 0, "gpu": 0}
    assert lengths(after) == {"default": 1, "gpu": 2}


def test_task_durations_are_recorded_by_task_and_outcome(client):
    from common.tasks import worker_heartbeat

    before = scrape(client)
    worker_heartbeat.delay("default")
    after = scrape(client)

    labels = {"task": worker_heartbeat.name, "outcome": "success"}
    assert (
        value(after, "hub_celery_task_duration_seconds_count", **labels)
        - value(before, "hub_celery_task_duration_seconds_count", **labels)
        == 1
    )


def test_metrics_answer_only_allowed_addresses_or_the_token(client, settings):
    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 403
    assert refused.json()["error"] == "Metrics are for the operators' addresses or token."

    settings.HUB_METRICS_TOKEN = "scrape-secret-123"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    allowed = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret-123")
    assert allowed.status_code == 200

    settings.HUB_METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    settings.HUB_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
