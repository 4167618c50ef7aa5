"""Request plumbing middleware."""

from __future__ import annotations

import logging
import re
import time
import uuid
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

from django.views import defaults

from common.errors import HubError, ValidationError, error_response
from common.logging import request_id_var
from common.views import is_api_path

logger = logging.getLogger("hub.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:=-]{1,128}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Longest path served: a repository file path is at most 4096 bytes (registry.git.paths).
MAX_PATH_CHARS = 8192


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


class UriTooLong(HubError):
    status = 414
    code = "uri_too_long"
    default_message = "The URL is too long."


def _malformed(path: str, query: str) -> HubError | None:
    if len(path) > MAX_PATH_CHARS:
        return UriTooLong(f"The path is longer than {MAX_PATH_CHARS} characters.")
    if _CONTROL.search(path):
        return ValidationError("The path holds control characters (NUL, CR, LF, ...), which no name may contain.")
    if b"\x00" in unquote_to_bytes(query):
        return ValidationError("The query string holds a NUL character.")
    return None


class MalformedRequestMiddleware:
    """Refuses, before any view runs, URLs that no view could answer sensibly: control characters
    in the path (a CR or NUL reaching a header or the database used to cost a 500 or the
    connection), NUL in the query string, over-long paths. API paths answer the JSON error shape,
    pages Django's 400 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        error = _malformed(request.path, request.META.get("QUERY_STRING", ""))
        if error is None:
            return self.get_response(request)
        if is_api_path(request.path):
            return error_response(error)
        response = defaults.bad_request(request, exception=None)
        response.status_code = error.status
        return response


class ApiErrorShapeMiddleware:
    """An error that Django itself answered on an API path with an HTML page (the 405 of
    ``require_http_methods``, a CSRF failure) is answered in the one JSON error shape instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        if response.status_code < 400 or not html or response.streaming or not is_api_path(request.path):
            return response
        status = HTTPStatus(response.status_code)
        error = HubError(f"{status.phrase}.")
        error.code = status.phrase.lower().replace(" ", "_").replace("-", "_")
        answer = error_response(error)
        answer.status_code = status
        for header, value in response.headers.items():
            if header.lower() not in {"content-type", "content-length"}:
                answer[header] = value
        return answer
