"""Sentry set-up, shared by the web and worker processes."""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float, transport=None) -> None:
    """Start Sentry with the Django and Celery integrations.

    ``transport`` replaces the network transport (tests capture events with it).
    """
    options = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration(), LoggingIntegration()],
        **options,
    )
