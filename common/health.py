"""Liveness and readiness checks."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connections


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    duration_ms: float


def _timed(name: str, check) -> CheckResult:
    started = time.monotonic()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a readiness probe reports every failure instead of raising it
        detail = f"{type(exc).__name__}: {exc}"
        ok = False
    return CheckResult(name=name, ok=ok, detail=detail, duration_ms=round((time.monotonic() - started) * 1000, 1))


def check_database() -> str:
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_broker() -> str:
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        return connection.as_uri()


def readiness() -> list[CheckResult]:
    return [_timed("database", check_database), _timed("broker", check_broker)]
