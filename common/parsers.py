"""DRF's parsers, bounded like Django's own forms: a JSON or form body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused (413) before it is held in memory (DRF reads the stream
itself, past Django's check), and JSON goes through the hub's strict reading
(:func:`common.inputs.json_parse`: depth, NUL)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from common.errors import ValidationError
from common.inputs import json_parse


class _BoundedStream:
    """``stream`` whose ``read()`` refuses to return more than the body cap."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return self._stream.read(size)
        data = self._stream.read(limit + 1 if size is None or size < 0 else min(size, limit + 1))
        if len(data) > limit:
            raise RequestDataTooBig("The request body is over DATA_UPLOAD_MAX_MEMORY_SIZE.")
        return data


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = _BoundedStream(stream).read() if stream is not None else b""
        try:
            return json_parse(raw)
        except ValidationError as error:
            raise ParseError(f"JSON parse error - {error.message}") from None


class BoundedFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(_BoundedStream(stream), media_type, parser_context)
