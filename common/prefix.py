"""Serving the hub under a path prefix (``HUB_PATH_PREFIX``, Django's ``FORCE_SCRIPT_NAME``).

A reverse proxy that publishes the hub at ``https://host/hub`` may pass paths on with or without
the prefix. Django's ASGI handler strips ``FORCE_SCRIPT_NAME`` from the path itself; its WSGI
handler does not, so :class:`PathPrefixMiddleware` moves the prefix from ``PATH_INFO`` to
``SCRIPT_NAME`` first. Either way ``reverse`` and ``get_script_prefix`` then start with the prefix,
and every URL the hub writes carries it.
"""

from __future__ import annotations

from django.conf import settings


def path_prefix() -> str:
    """The configured prefix without a trailing slash (``""`` when the hub is served at the root)."""
    return (settings.FORCE_SCRIPT_NAME or "").rstrip("/")


class PathPrefixMiddleware:
    """WSGI middleware: ``/hub/api/models`` reaches Django as ``SCRIPT_NAME=/hub``,
    ``PATH_INFO=/api/models``. Paths that arrive without the prefix pass unchanged."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        prefix = path_prefix()
        path = environ.get("PATH_INFO", "")
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            environ["PATH_INFO"] = path[len(prefix) :] or "/"
            environ["SCRIPT_NAME"] = prefix
        return self.app(environ, start_response)
