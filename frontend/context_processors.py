"""Template context every page gets."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import get_script_prefix


def path_prefix(request: HttpRequest | None = None) -> dict[str, str]:
    """``path_prefix``: the path the hub is served under (``HUB_PATH_PREFIX``), without a trailing
    slash, for links written as paths (``{{ path_prefix }}/runs``); empty at the root."""
    return {"path_prefix": get_script_prefix().rstrip("/")}
