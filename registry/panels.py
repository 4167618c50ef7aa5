"""Extension points of the repository pages: panels that apps above the registry add without the
registry importing them (ARCHITECTURE.md §3: a lower layer reacts to higher ones through a
registered hook).

A provider takes the request and the object the page shows and returns ``None`` (nothing to
show) or a dict naming its ``template`` plus what the template reads; the page includes each
template with the dict as ``panel``. Apps register providers in their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

Panel = dict[str, Any]
Provider = Callable[[HttpRequest, Any], Panel | None]

REPO_SIDEBAR: list[Provider] = []  # the sidebar of a repository's main page
PULL_REQUEST_SIDEBAR: list[Provider] = []  # the sidebar of a pull request's page


def panels(providers: list[Provider], request: HttpRequest, subject: Any) -> list[Panel]:
    return [panel for provider in providers if (panel := provider(request, subject)) is not None]
