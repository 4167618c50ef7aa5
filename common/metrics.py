"""Prometheus metrics (``prometheus-client``), served at ``/metrics``.

Recorded where they happen: every request by its route pattern (``api/models/<path:repo_id>``, not
the raw path; ``<unmatched>`` for a 404 no route took), method and status, with its latency, the
bytes it received (uploads) and sent (downloads); every Celery task's duration by task name and
outcome (the worker's signals, :func:`celery_signals_connect`). Read when scraped: the length of
each Celery queue on the broker and whatever an app registers with :func:`scrape_collector` (the
runs app: runs by state).

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (``make serve`` and ``make run`` set it)
every web process and worker writes its values to files in that folder, and a scrape of any web
process sums them all. Without it, a process reports its own values.

Access: ``/metrics`` answers addresses in ``HUB_METRICS_ALLOWED_NETWORKS`` (loopback by default;
the client address as :func:`common.throttling.client_ip` reads it behind trusted proxies) and any
caller sending ``Authorization: Bearer <HUB_METRICS_TOKEN>``; everybody else gets 403. The
middleware answers it before authentication, so the metrics token is never taken for a hub token.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from common.errors import PermissionDenied, error_response
from common.throttling import client_ip

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter("hub_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "hub_http_request_duration_seconds", "Time to the response (not the body's transfer)", ["method", "route"],
    buckets=LATENCY_BUCKETS,
)  # fmt: skip
RECEIVED = Counter("hub_http_received_bytes", "Request body bytes (uploads) by route", ["route"])
SENT = Counter("hub_http_sent_bytes", "Response body bytes (downloads) by route, as Content-Length says", ["route"])
TASKS = Histogram(
    "hub_celery_task_duration_seconds", "Celery task run time", ["task", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0),
)  # fmt: skip

_scrape_collectors: list = []


def scrape_collector(collector):
    """Add ``collector`` (an object with ``collect()`` yielding metric families) to every scrape."""
    _scrape_collectors.append(collector)
    return collector


def request_route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED


def _content_bytes(response: HttpResponse) -> int:
    length = response.get("Content-Length")
    if length and length.isdigit():
        return int(length)
    if getattr(response, "streaming", False):
        return 0
    return len(response.content)


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.HUB_METRICS_TOKEN
    if token:
        scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(secret.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in settings.HUB_METRICS_ALLOWED_NETWORKS)


class QueueLengths:
    """``hub_celery_queue_length{queue}``: messages waiting on the broker, read at each scrape."""

    def collect(self):
        from celery import current_app

        family = GaugeMetricFamily("hub_celery_queue_length", "Messages waiting in each Celery queue", labels=["queue"])
        up = GaugeMetricFamily("hub_celery_broker_up", "1 when the broker answered this scrape")
        try:
            with current_app.connection_for_read() as connection:
                connection.ensure_connection(max_retries=1)
                channel = connection.default_channel
                for queue in current_app.conf.task_queues or ():
                    try:
                        waiting = channel.queue_declare(queue=queue.name, passive=True).message_count
                    except connection.channel_errors:  # never declared yet (an empty Redis list)
                        waiting = 0
                        channel = connection.channel()
                    family.add_metric([queue.name], waiting)
            up.add_metric([], 1)
        except Exception:  # the scrape still answers; the broker's absence is itself the metric
            logger.warning("metrics: the Celery broker did not answer", exc_info=True)
            up.add_metric([], 0)
        yield family
        yield up


scrape_collector(QueueLengths())


class _Scrape:
    def __init__(self, sources) -> None:
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def metrics_exposition() -> bytes:
    """Every metric in Prometheus's text format: all processes' when multiprocess mode is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        recorded = CollectorRegistry()
        multiprocess.MultiProcessCollector(recorded)
    else:
        recorded = REGISTRY
    return generate_latest(_Scrape([recorded, *_scrape_collectors]))


class MetricsMiddleware:
    """Outermost: counts and times every request by route; answers ``/metrics`` itself."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == METRICS_PATH and request.method in ("GET", "HEAD"):
            if not metrics_allowed(request):
                return error_response(PermissionDenied("Metrics are for the operators' addresses or token."))
            response = HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
            response["Cache-Control"] = "no-store"
            return response
        started = time.perf_counter()
        response = self.get_response(request)
        route = request_route(request)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        length = request.META.get("CONTENT_LENGTH", "")
        if length.isdigit() and int(length):
            RECEIVED.labels(route).inc(int(length))
        sent = _content_bytes(response) if request.method != "HEAD" else 0
        if sent:
            SENT.labels(route).inc(sent)
        return response


def celery_signals_connect() -> None:
    """Time every task a worker of this process runs (``hub_celery_task_duration_seconds``)."""
    from celery.signals import task_postrun, task_prerun

    started: dict[str, float] = {}

    @task_prerun.connect(weak=False)
    def _begin(task_id=None, **_kwargs) -> None:
        started[task_id] = time.perf_counter()

    @task_postrun.connect(weak=False)
    def _end(task_id=None, task=None, state=None, **_kwargs) -> None:
        began = started.pop(task_id, None)
        if began is not None and task is not None:
            TASKS.labels(task.name, (state or "UNKNOWN").lower()).observe(time.perf_counter() - began)
