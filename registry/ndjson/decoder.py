"""``iter_commit_lines`` and ``_Decoder``, which reads the commit body one NDJSON line at a time.

The decoder checks each line against the commit schema (which fields, which JSON types) as it is
parsed, streams ``value.content`` to a sink, and builds the line's record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from registry.ndjson.base64_stream import _Base64Decoder
from registry.ndjson.json_parser import (
    _BLANK,
    _INLINE_WHITESPACE,
    _LBRACE,
    _NEWLINE,
    _QUOTE,
    _describe,
    _JsonParser,
    _Reader,
)
from registry.ndjson.records import (
    LINE_KEYS,
    CommitLine,
    ContentSink,
    ContentSinkFactory,
    DeletedFileLine,
    DeletedFolderLine,
    FileLine,
    HeaderLine,
    LfsFileLine,
)

DEFAULT_CHUNK_SIZE = 1 << 20
DEFAULT_MAX_STRING_BYTES = 1 << 16
DEFAULT_MAX_LINE_BYTES = 1 << 20
DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_LINES = 100_000

_MISSING = object()
_STREAMED = object()  # value.content, which went to the sink


def iter_commit_lines(
    stream: BinaryIO,
    *,
    content_sink_factory: ContentSinkFactory,
    max_string_bytes: int = DEFAULT_MAX_STRING_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_lines: int = DEFAULT_MAX_LINES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[CommitLine]:
    """Yield the lines of a commit body read from ``stream`` (anything with ``read(n) -> bytes``).

    Lines are yielded as soon as each is read and checked, so a consumer can act on one before the
    next is read. A ``FileLine`` is yielded after its sink's ``finish``; from then on its handle
    belongs to the consumer. On any error, and if the consumer closes the generator, the sink of a
    line still being read is aborted. Errors in the payload raise :class:`CommitPayloadError`;
    errors raised by ``stream`` or by a sink propagate unchanged.

    ``max_string_bytes`` bounds every string but ``value.content`` (in UTF-8 bytes, after
    unescaping); ``max_line_bytes`` bounds the raw bytes of a line outside ``value.content``;
    ``max_depth`` bounds nesting (the line object is depth 1, its ``value`` depth 2);
    ``max_lines`` bounds the number of lines (each one is an operation held until the commit).
    """
    decoder = _Decoder(
        _Reader(stream, chunk_size),
        content_sink_factory,
        max_string_bytes=max_string_bytes,
        max_line_bytes=max_line_bytes,
        max_depth=max_depth,
        max_lines=max_lines,
    )
    try:
        yield from decoder.lines()
    finally:
        decoder.abort_open_sink()


class _Decoder(_JsonParser):
    """Recursive-descent parser over a :class:`_Reader`, one NDJSON line per :meth:`_document`."""

    def __init__(
        self,
        reader: _Reader,
        content_sink_factory: ContentSinkFactory,
        *,
        max_string_bytes: int,
        max_line_bytes: int,
        max_depth: int,
        max_lines: int = DEFAULT_MAX_LINES,
    ) -> None:
        self._reader = reader
        self._max_lines = max_lines
        self._documents = 0
        self._sink_factory = content_sink_factory
        self._max_string_bytes = max_string_bytes
        self._max_line_bytes = max_line_bytes
        self._max_depth = max_depth
        self._line = 1
        self._seen_header = False
        # Per-document state, reset by _document().
        self._line_start = 0
        self._content_bytes = 0
        self._line_key: str | None = None
        self._path_hint: str | None = None
        self._encoding: object = _MISSING
        self._sink: ContentSink | None = None
        self._content_size = 0

    # -- driver ------------------------------------------------------------------------------

    def lines(self) -> Iterator[CommitLine]:
        while self._skip_blank_lines():
            self._documents += 1
            if self._documents > self._max_lines:
                self._fail(f"the payload holds more than {self._max_lines} lines")
            yield self._document()
        if not self._seen_header:
            self._fail("the payload holds no header line")

    def abort_open_sink(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.abort()

    def _skip_blank_lines(self) -> bool:
        """Skip whitespace and newlines between documents; ``True`` if a document follows."""
        reader = self._reader
        while True:
            buf, pos = reader.buf, reader.pos
            end = _BLANK.match(buf, pos).end()
            self._line += buf.count(b"\n", pos, end)
            reader.pos = end
            if end < len(buf):
                return True
            if not reader.fill():
                return False

    def _document(self) -> CommitLine:
        reader = self._reader
        self._line_start = reader.offset
        self._content_bytes = 0
        self._line_key = None
        self._path_hint = None
        self._encoding = _MISSING
        self._content_size = 0
        if self._peek() != _LBRACE:
            self._fail("a line must hold a JSON object")
        members: dict[str, object] = {}
        self._members("", 1, self._top_member(members))
        # Only spaces, tabs and carriage returns may follow the object on its line.
        while True:
            end = _INLINE_WHITESPACE.match(reader.buf, reader.pos).end()
            reader.pos = end
            self._check_line_budget()
            if end < len(reader.buf):
                if reader.buf[end] != _NEWLINE:
                    self._fail("unexpected data after the JSON object on its line")
                reader.pos = end + 1
                newline = True
                break
            if not reader.fill():
                newline = False
                break
        record = self._record(members)
        if newline:
            self._line += 1
        return record

    # -- the commit schema ---------------------------------------------------------------------

    def _top_member(self, members: dict[str, object]) -> Callable[[str, str, int], None]:
        def member(name: str, field: str, depth: int) -> None:
            if name in members:
                self._fail(f"duplicate field {field!r}")
            if name == "value" and self._peek() == _LBRACE:
                value: dict[str, object] = {}
                self._members(field, depth + 1, self._value_member(value))
                members[name] = value
                return
            members[name] = self._value(field, depth)
            if name == "key" and isinstance(members[name], str):
                self._check_key(members[name])

        return member

    def _value_member(self, value: dict[str, object]) -> Callable[[str, str, int], None]:
        def member(name: str, field: str, depth: int) -> None:
            if name in value:
                self._fail(f"duplicate field {field!r}")
            if name == "content":
                value[name] = self._content(field)
                return
            item = self._value(field, depth)
            value[name] = item
            if name == "path" and isinstance(item, str):
                self._path_hint = item
            elif name == "encoding":
                self._encoding = item
                if self._line_key == "file":
                    self._check_encoding()

        return member

    def _check_key(self, key: str) -> None:
        if key not in LINE_KEYS:
            self._fail(f"unknown line key {key!r}")
        if key == "header" and self._seen_header:
            self._fail("a second header line; the header comes once, first")
        if key != "header" and not self._seen_header:
            self._fail(f"the first line must be the header, got {key!r}")
        if key != "file" and self._sink is not None:
            self._fail(f"field 'value.content' is only allowed on 'file' lines, not {key!r}")
        self._line_key = key

    def _check_encoding(self) -> None:
        encoding = self._encoding
        if encoding is _MISSING:
            self._fail("missing field 'value.encoding'")
        if encoding != "base64":
            shown = repr(encoding) if isinstance(encoding, str) else _describe(encoding)
            self._fail(f"field 'value.encoding' is {shown}; the only supported encoding is 'base64'")

    def _record(self, members: dict[str, object]) -> CommitLine:
        key = members.get("key", _MISSING)
        if key is _MISSING:
            self._fail("missing field 'key'")
        if not isinstance(key, str):
            self._fail(f"field 'key' must be a string, got {_describe(key)}")
        value = members.get("value", _MISSING)
        if value is _MISSING:
            self._fail("missing field 'value'")
        if not isinstance(value, dict):
            self._fail(f"field 'value' must be an object, got {_describe(value)}")
        self._check_key(key)
        if key == "header":
            self._seen_header = True
            return HeaderLine(
                summary=self._string(value, "summary"),
                description=self._string(value, "description", optional=True) or "",
                parent_commit=self._string(value, "parentCommit", optional=True),
            )
        path = self._string(value, "path")
        if key == "file":
            self._check_encoding()
            if "content" not in value:
                self._fail("missing field 'value.content'")
            sink = self._sink
            assert sink is not None
            handle = sink.finish()  # a finish that raises leaves the sink set, so it is aborted
            self._sink = None
            return FileLine(path=path, content_handle=handle, size=self._content_size)
        if key == "lfsFile":
            return LfsFileLine(
                path=path,
                oid=self._string(value, "oid"),
                size=self._size(value),
                algo=self._string(value, "algo"),
            )
        if key == "deletedFile":
            return DeletedFileLine(path=path)
        return DeletedFolderLine(path=path)

    def _string(self, value: dict[str, object], name: str, *, optional: bool = False) -> Any:
        item = value.get(name, _MISSING)
        if optional and (item is _MISSING or item is None):
            return None
        if item is _MISSING:
            self._fail(f"missing field 'value.{name}'")
        if not isinstance(item, str):
            self._fail(f"field 'value.{name}' must be a string, got {_describe(item)}")
        return item

    def _size(self, value: dict[str, object]) -> int | None:
        item = value.get("size")
        if item is None:
            return None
        if isinstance(item, bool) or not isinstance(item, int):
            self._fail(f"field 'value.size' must be a non-negative integer, got {_describe(item)}")
        if item < 0:
            self._fail(f"field 'value.size' must be a non-negative integer, got {item}")
        return item

    def _content(self, field: str) -> object:
        """Stream ``value.content`` into a new sink, base64-decoding as it goes."""
        if self._line_key is not None and self._line_key != "file":
            self._fail(f"field {field!r} is only allowed on 'file' lines, not {self._line_key!r}")
        if self._peek() != _QUOTE:
            self._fail(f"field {field!r} must be a string")
        if self._encoding is not _MISSING:
            self._check_encoding()
        reader = self._reader
        reader.pos += 1
        start = reader.offset
        self._sink = self._sink_factory(self._path_hint)
        what = f"field {field!r}"
        decoder = _Base64Decoder(self._sink, lambda problem: self._fail(f"{what} {problem}"))

        def raw(buf: bytes, pos: int, end: int) -> None:
            decoder.feed(memoryview(buf)[pos:end])

        def escaped(char: str) -> None:
            # Valid JSON may escape any character; base64 never needs to, but "\/" is legal.
            if not char.isascii():
                self._fail(f"{what} is not valid base64")
            decoder.feed(char.encode("ascii"))

        self._scan_string(what, raw, escaped)
        decoder.close()
        self._content_size = decoder.size
        self._content_bytes = reader.offset - start
        return _STREAMED
