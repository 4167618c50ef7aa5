"""Domain errors and the one JSON error shape every API answers with.

Services raise :class:`HubError` subclasses; the REST API (through :func:`common.drf_errors.api_exception_handler`)
and the HF-compatible API (through :func:`error_response`) turn them into::

    {"error": "<human-readable message>", "code": "<machine code>", "fields": {"name": ["…"]}}

``fields`` appears only on validation errors. The ``error`` key is also what the
``huggingface_hub`` client reads, and ``hf_code`` becomes its ``X-Error-Code`` header, which is how
the client picks the exception class it raises (HF_PROTOCOL.md §1).
"""

from __future__ import annotations

import re
from typing import Any

from django.http import JsonResponse

# Messages often quote what the caller sent; they never echo more than this many characters.
MAX_MESSAGE_CHARS = 1000
# Header values carry a shorter, single-line, latin-1 copy (X-Error-Message).
MAX_HEADER_CHARS = 256
_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def header_value(text: str) -> str:
    """``text`` made safe for an HTTP header: one line, no control characters (NUL, CR and LF
    would break the response or the connection), latin-1, at most ``MAX_HEADER_CHARS``."""
    text = _UNSAFE_IN_HEADER.sub(" ", bounded(text, MAX_HEADER_CHARS))
    return text.encode("latin-1", "replace").decode("latin-1")


def _bounded_fields(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Field errors, as bounded as messages: a body of a million keys gets no million-line answer."""
    return {
        bounded(str(name), 200): [bounded(str(message)) for message in messages[:20]]
        for name, messages in list(fields.items())[:50]
    }


class HubError(Exception):
    """Base class of errors a user can act on; carries its HTTP status and machine code."""

    status = 400
    code = "bad_request"
    hf_code: str | None = None
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None) -> None:
        self.message = bounded(message or self.default_message)
        self.fields = _bounded_fields(fields or {})
        super().__init__(self.message)

    @property
    def header_message(self) -> str:
        """The ``X-Error-Message`` header: the message, unless the HF client dispatches on a fixed
        wording (a disabled repository)."""
        return self.message

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


class PayloadTooLarge(HubError):
    status = 413
    code = "too_large"
    default_message = "The request body is too large."


class ServerError(HubError):
    status = 500
    code = "server_error"
    default_message = "The server failed to answer this request; the error has been logged."


class RateLimited(HubError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message or f"Too many requests; retry in {retry_after} seconds.")
        self.retry_after = retry_after


def error_response(error: HubError, *, headers: dict[str, str] | None = None) -> JsonResponse:
    """The JSON answer for ``error``, with ``X-Error-Code``/``X-Error-Message`` when it has an HF code."""
    response = JsonResponse(error.as_dict(), status=error.status)
    if error.hf_code:
        response["X-Error-Code"] = error.hf_code
    response["X-Error-Message"] = header_value(error.header_message)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    for key, value in (headers or {}).items():
        response[key] = header_value(value)
    return response
