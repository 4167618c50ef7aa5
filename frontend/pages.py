"""Plumbing shared by the HTML pages: domain errors become error pages."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from common.errors import HubError, Unauthenticated

ERROR_TITLES = {400: "Invalid request", 403: "Access restricted", 404: "Not found", 409: "Conflict"}


def render_error(request: HttpRequest, error: HubError, *, title: str = "") -> HttpResponse:
    title = title or ERROR_TITLES.get(error.status, "Something went wrong")
    return render(request, "frontend/error.html", {"title": title, "error": error}, status=error.status)


def page_view(view: Callable) -> Callable:
    """Decorate an HTML view: ``Unauthenticated`` sends the visitor to the log-in page, any other
    ``HubError`` renders the error page with its status (a private repository is a plain 404)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Unauthenticated:
            return redirect_to_login(request.get_full_path())
        except HubError as error:
            return render_error(request, error)

    return wrapper
