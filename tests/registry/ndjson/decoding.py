"""Test doubles for the NDJSON decoder: short reads, recording sinks, decode helpers, a json reference."""

import base64
import io
import json
from collections.abc import Iterator

import pytest

from registry.ndjson import (
    CommitPayloadError,
    DeletedFileLine,
    DeletedFolderLine,
    FileLine,
    HeaderLine,
    LfsFileLine,
    iter_commit_lines,
)

READ_SIZES = [1, 3, 7, 4096]
HEADER = b'{"key":"header","value":{"summary":"s","description":""}}\n'


class ShortReads(io.RawIOBase):
    """A request body that hands back at most ``step`` bytes per read, like a socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, self._step) if size >= 0 else self._step)


class RecordingSink:
    """Keeps the decoded bytes; ``finish`` returns them as the handle."""

    def __init__(self, hint: str | None) -> None:
        self.hint = hint
        self.data = bytearray()
        self.state = "open"

    def write(self, data: bytes) -> None:
        assert self.state == "open"
        self.data += data

    def finish(self) -> bytes:
        assert self.state == "open"
        self.state = "finished"
        return bytes(self.data)

    def abort(self) -> None:
        assert self.state == "open"
        self.state = "aborted"


class Sinks:
    """Factory that records every sink it opens."""

    def __init__(self) -> None:
        self.opened: list[RecordingSink] = []

    def __call__(self, hint: str | None) -> RecordingSink:
        sink = RecordingSink(hint)
        self.opened.append(sink)
        return sink

    def count(self, state: str) -> int:
        return sum(sink.state == state for sink in self.opened)


def decode(body: bytes, step: int = 4096, **limits: int) -> tuple[list, Sinks]:
    sinks = Sinks()
    return list(iter_commit_lines(ShortReads(body, step), content_sink_factory=sinks, **limits)), sinks


def decode_error(body: bytes, step: int = 4096, **limits: int) -> tuple[CommitPayloadError, list, Sinks]:
    sinks = Sinks()
    records: list = []
    with pytest.raises(CommitPayloadError) as caught:
        drain(iter_commit_lines(ShortReads(body, step), content_sink_factory=sinks, **limits), records)
    return caught.value, records, sinks


def drain(lines: Iterator, into: list) -> None:
    for record in lines:
        into.append(record)


def reference_decode(body: bytes) -> list:
    """What the decoder must produce, computed with ``json`` and ``base64`` on the whole body."""
    records = []
    for raw in body.split(b"\n"):
        if not raw.strip():
            continue
        line = json.loads(raw)
        key, value = line["key"], line["value"]
        if key == "header":
            records.append(HeaderLine(value["summary"], value["description"], value.get("parentCommit")))
        elif key == "file":
            content = base64.b64decode(value["content"], validate=True)
            records.append(FileLine(value["path"], content, len(content)))
        elif key == "lfsFile":
            records.append(LfsFileLine(value["path"], value["oid"], value.get("size"), value["algo"]))
        elif key == "deletedFile":
            records.append(DeletedFileLine(value["path"]))
        else:
            records.append(DeletedFolderLine(value["path"]))
    return records
