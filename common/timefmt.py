"""Timestamps as the HF client parses them: ``%Y-%m-%dT%H:%M:%S.fffZ`` in UTC, never ``+00:00``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_z(value: datetime | None) -> str | None:
    """Format an aware datetime in UTC with millisecond precision and a ``Z`` suffix."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
