"""Domain errors and the one JSON error shape every API answers with.

Services raise :class:`HubError` subclasses; the REST API (through :func:`common.drf_errors.api_exception_handler`)
and the HF-compatible API (through :func:`error_response`) turn them into::

    {"error": "<human-readable message>", "code": "<machine code>", "fields": {"name": ["…"]}}

``fields`` appears only on validation errors. The ``error`` key is also what the
``huggingface_hub`` client reads, and ``hf_code`` becomes its ``X-Error-Code`` header, which is how
the client picks the exception class it raises (HF_PROTOCOL.md §1).
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


class HubError(Exception):
    """Base class of errors a user can act on; carries its HTTP status and machine code."""

    status = 400
    code = "bad_request"
    hf_code: str | None = None
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None) -> None:
        self.message = message or self.default_message
        self.fields = fields or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.fields:
            body["fields"] = self.fields
        return body


class ValidationError(HubError):
    status = 400
    code = "invalid"
    default_message = "Some fields are invalid."


class Unprocessable(HubError):
    status = 422
    code = "unprocessable"
    default_message = "The request could not be processed."


class Unauthenticated(HubError):
    status = 401
    code = "unauthenticated"
    default_message = "Authentication is required."


class InvalidToken(Unauthenticated):
    code = "invalid_token"
    default_message = "Invalid user token."


class PermissionDenied(HubError):
    status = 403
    code = "forbidden"
    default_message = "You do not have permission to do this."


class NotFound(HubError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(HubError):
    status = 409
    code = "conflict"
    default_message = "The resource already exists."


class PreconditionFailed(HubError):
    status = 412
    code = "precondition_failed"
    default_message = "A precondition of the request failed."


class RateLimited(HubError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message or f"Too many requests; retry in {retry_after} seconds.")
        self.retry_after = retry_after


# Longest ``X-Error-Message``: the body carries the whole message; the header is a summary.
MAX_HEADER_MESSAGE = 512


def header_safe(text: str, *, limit: int = MAX_HEADER_MESSAGE) -> str:
    """``text`` as an HTTP header value: one line of latin-1 without control characters, at most
    ``limit`` characters (messages may echo user input, which must never break or bloat a header)."""
    text = "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text[: limit * 2])
    text = text.encode("latin-1", "replace").decode("latin-1").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_response(error: HubError, *, headers: dict[str, str] | None = None) -> JsonResponse:
    """The JSON answer for ``error``, with ``X-Error-Code``/``X-Error-Message`` when it has an HF code."""
    response = JsonResponse(error.as_dict(), status=error.status)
    if error.hf_code:
        response["X-Error-Code"] = error.hf_code
    response["X-Error-Message"] = header_safe(error.message)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    for key, value in (headers or {}).items():
        response[key] = value
    return response
