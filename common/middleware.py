"""Request plumbing middleware."""

from __future__ import annotations

import logging
import re
import time
import uuid

from common.logging import request_id_var

logger = logging.getLogger("hub.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:=-]{1,128}$")


class RequestIdMiddleware:
    """Gives every request an id (the client's ``X-Request-Id``/``X-Amzn-Trace-Id`` when well formed),
    echoes it in ``X-Request-Id`` and logs one structured line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id") or request.headers.get("X-Amzn-Trace-Id") or ""
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-Id"] = request_id
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)
