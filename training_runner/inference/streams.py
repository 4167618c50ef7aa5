"""What the streaming faces share: starting a stream so that errors before its first event are
ordinary HTTP errors, and writing events as NDJSON or as server-sent events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from common.errors import HubError
from common.streaming import IteratorStreamingResponse


def started(events: Iterator[dict]) -> Iterator[dict]:
    """``events`` with its first item already pulled (raising now if it fails)."""
    first = next(events)

    def chained() -> Iterator[dict]:
        try:
            yield first
            yield from events
        finally:
            events.close()

    return chained()


def _lines(events: Iterator[dict], encode: Callable[[dict], str], error: Callable[[HubError], dict], tail: str):
    try:
        for event in events:
            yield encode(event)
        if tail:
            yield tail
    except HubError as exc:
        yield encode(error(exc))


def ndjson_response(events: Iterator[dict]) -> IteratorStreamingResponse:
    """One JSON object a line; an error after the start arrives as ``{"type": "error", ...}``."""
    lines = _lines(events, lambda e: json.dumps(e) + "\n", lambda exc: {"type": "error", **exc.as_dict()}, "")
    response = IteratorStreamingResponse(lines, content_type="application/x-ndjson")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def sse_response(chunks: Iterator[dict]) -> IteratorStreamingResponse:
    """Server-sent events as the OpenAI API sends them: ``data: {json}`` per chunk, then ``[DONE]``."""

    def error(exc: HubError) -> dict:
        return {"error": {"message": exc.message, "type": exc.code, "code": exc.code}}

    lines = _lines(chunks, lambda c: f"data: {json.dumps(c)}\n\n", error, "data: [DONE]\n\n")
    response = IteratorStreamingResponse(lines, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
