"""The one client of the engine's HTTP protocol (``server.py``), for the hub and the benchmarks.

Errors the engine answers come back as the same ``errors.EngineError`` subclasses it raised;
an engine that cannot be reached raises ``EngineUnavailable``.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

from . import errors

ERRORS_BY_CODE = {
    cls.code: cls
    for cls in (
        errors.InvalidRequest,
        errors.NoChatTemplate,
        errors.UnsupportedModel,
        errors.ModelUnavailable,
        errors.RequestTooLarge,
        errors.EngineBusy,
    )
}


class EngineUnavailable(errors.EngineError):
    status = 503
    code = "engine_unavailable"


def _error(status: int, body: dict) -> errors.EngineError:
    cls = ERRORS_BY_CODE.get(body.get("code"), errors.EngineError)
    fields = body.get("fields") or {}
    error = cls(str(body.get("error") or f"the engine answered {status}"), field=next(iter(fields), None))
    error.status = status
    if cls is errors.EngineError:
        error.code = str(body.get("code") or "engine_error")
    return error


class EngineClient:
    def __init__(self, url: str, *, token: str, timeout: float = 300.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token
        self.timeout = timeout

    def _open(self, method: str, path: str, body: dict | None) -> http.client.HTTPResponse:
        """The 200 response (whose ``close`` also closes its connection), or the engine's error."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
        except OSError as exc:
            connection.close()
            raise EngineUnavailable(f"the inference engine is not reachable: {exc}") from None
        if response.status != 200:
            try:
                payload = json.loads(response.read() or b"{}")
            finally:
                connection.close()
            raise _error(response.status, payload if isinstance(payload, dict) else {})
        close_response = response.close

        def close() -> None:
            close_response()
            connection.close()

        response.close = close
        return response

    def call(self, path: str, body: dict) -> dict:
        response = self._open("POST", path, body)
        try:
            return json.loads(response.read())
        finally:
            response.close()

    def stream(self, path: str, body: dict) -> Iterator[dict]:
        """Events of a streamed response; closing the iterator early closes the connection, which
        stops the engine's generation."""
        response = self._open("POST", path, {**body, "stream": True})
        try:
            while line := response.readline():
                event = json.loads(line)
                if event.get("type") == "error":
                    raise _error(500, event)
                yield event
        except OSError as exc:
            raise EngineUnavailable(f"the inference engine stream broke: {exc}") from None
        finally:
            response.close()

    def health(self) -> dict:
        response = self._open("GET", "/healthz", None)
        try:
            return json.loads(response.read())
        finally:
            response.close()
