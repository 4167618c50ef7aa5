"""Rendered pages in tests: markup compared whole (``assertInHTML``) once the per-request CSRF tokens
are taken out."""

from __future__ import annotations

import re

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def without_csrf(html: str) -> str:
    """``html`` without the hidden CSRF inputs of its forms."""
    return CSRF_INPUT.sub("", html)
