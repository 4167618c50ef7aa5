"""Middleware of the hub app."""

from __future__ import annotations

from hub.services.audit import current_request


class AuditRequestMiddleware:
    """Keeps the request being served where ``hub.services.audit.record`` finds it (a context
    variable, so concurrent requests under ASGI never see each other's), for the client address
    and user agent of the events the services record."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
