"""Streaming decoder for the NDJSON body of ``POST /api/{type}s/{repo}/commit/{rev}``.

The body is one JSON object per line (HF_PROTOCOL.md §2.6 step 4): a header, then one line per
operation. A ``file`` line carries the whole file inline as a base64 string, so one line can be
several gigabytes long. This module therefore never holds the body, a line or that string in
memory: it reads the stream in chunks, parses JSON incrementally, and base64-decodes
``value.content`` on the fly into a sink the caller supplies (typically a staged temporary file).
Every other string, the non-content bytes of a line and the nesting depth are bounded, so memory
stays at a few MiB whatever the body size.

The decoder only checks the shape of each line (which fields, which JSON types). What the values
mean — whether a path is acceptable, whether an oid is a sha256 — is for the registry to decide.

Strictness beyond plain JSON, on purpose:

- a document must sit on one line: a raw newline inside it is an error, and only spaces, tabs and
  carriage returns may follow it on its line; blank lines between documents are allowed;
- duplicate member names in the line object and in ``value`` are an error (two parsers must never
  disagree about which ``path`` a line names);
- ``\\u`` escapes must form valid UTF-16 (no lone surrogates) and raw bytes must be valid UTF-8;
- base64 is decoded in strict mode: padding is required and any character outside the alphabet,
  including whitespace, is an error.

Members the protocol does not define are parsed (and bounded) but ignored, so a newer client that
adds a field keeps working. ``content`` is the exception: it is only valid on a ``file`` line.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn, Protocol

__all__ = [
    "CommitLine",
    "CommitPayloadError",
    "ContentSink",
    "ContentSinkFactory",
    "DeletedFileLine",
    "DeletedFolderLine",
    "FileLine",
    "HeaderLine",
    "LfsFileLine",
    "iter_commit_lines",
]

DEFAULT_CHUNK_SIZE = 1 << 20
DEFAULT_MAX_STRING_BYTES = 1 << 16
DEFAULT_MAX_LINE_BYTES = 1 << 20
DEFAULT_MAX_DEPTH = 32
# Longest number token accepted. Sizes need 20 digits at most; the cap also keeps int() linear.
MAX_NUMBER_CHARS = 256


class CommitPayloadError(ValueError):
    """The commit body is not a valid payload; ``line`` is the 1-based physical line at fault."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ContentSink(Protocol):
    """Receives the decoded bytes of one ``file`` line.

    ``write`` is called with each decoded piece, in order. Exactly one of ``finish`` or ``abort``
    follows: ``finish`` once the whole line has been read and checked, returning the handle the
    yielded :class:`FileLine` carries; ``abort`` on any error (also after a ``finish`` that
    raised), and must remove whatever the sink staged.
    """

    def write(self, data: bytes) -> object: ...

    def finish(self) -> Any: ...

    def abort(self) -> None: ...


# Called with the line's ``path`` when it came before ``content`` in the object, else ``None``.
ContentSinkFactory = Callable[[str | None], ContentSink]


@dataclass(frozen=True, slots=True)
class HeaderLine:
    """``{"key": "header"}``: the commit message; always the first line."""

    summary: str
    description: str
    parent_commit: str | None


@dataclass(frozen=True, slots=True)
class FileLine:
    """``{"key": "file"}``: a regular file whose content went to a sink; ``size`` is decoded bytes."""

    path: str
    content_handle: Any
    size: int


@dataclass(frozen=True, slots=True)
class LfsFileLine:
    """``{"key": "lfsFile"}``: a file already uploaded out of band; ``size`` is absent for copies."""

    path: str
    oid: str
    size: int | None
    algo: str


@dataclass(frozen=True, slots=True)
class DeletedFileLine:
    """``{"key": "deletedFile"}``."""

    path: str


@dataclass(frozen=True, slots=True)
class DeletedFolderLine:
    """``{"key": "deletedFolder"}``: the path may or may not end with ``/``."""

    path: str


CommitLine = HeaderLine | FileLine | LfsFileLine | DeletedFileLine | DeletedFolderLine

LINE_KEYS = frozenset({"header", "file", "lfsFile", "deletedFile", "deletedFolder"})


def iter_commit_lines(
    stream: BinaryIO,
    *,
    content_sink_factory: ContentSinkFactory,
    max_string_bytes: int = DEFAULT_MAX_STRING_BYTES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
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
    ``max_depth`` bounds nesting (the line object is depth 1, its ``value`` depth 2).
    """
    decoder = _Decoder(
        _Reader(stream, chunk_size),
        content_sink_factory,
        max_string_bytes=max_string_bytes,
        max_line_bytes=max_line_bytes,
        max_depth=max_depth,
    )
    try:
        yield from decoder.lines()
    finally:
        decoder.abort_open_sink()


class _Reader:
    """A window on the stream: ``buf[pos:]`` is unread; consumed bytes are dropped on refill."""

    __slots__ = ("_chunk_size", "_stream", "base", "buf", "eof", "pos")

    def __init__(self, stream: BinaryIO, chunk_size: int) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self._stream = stream
        self._chunk_size = chunk_size
        self.buf = b""
        self.pos = 0
        self.base = 0  # offset in the stream of buf[0]
        self.eof = False

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def fill(self) -> bool:
        """Read one more chunk after the unread bytes; ``False`` at end of stream."""
        if self.eof:
            return False
        data = self._stream.read(self._chunk_size)
        if data is None:
            raise OSError("the commit body stream returned no data (non-blocking streams are not supported)")
        if not data:
            self.eof = True
            return False
        if type(data) is not bytes:
            data = bytes(data)
        # Callers consume what they have scanned before refilling, so the unread tail is at most an
        # escape sequence long and this concatenation stays cheap.
        unread = self.buf[self.pos :]
        self.base += self.pos
        self.buf = unread + data if unread else data
        self.pos = 0
        return True

    def ensure(self, count: int) -> bool:
        """Make ``count`` unread bytes available; ``False`` if the stream ends first."""
        while len(self.buf) - self.pos < count:
            if not self.fill():
                return False
        return True


class _Kind:
    """Stands for a container value that was parsed but not kept (only scalars are ever used)."""

    __slots__ = ("description",)

    def __init__(self, description: str) -> None:
        self.description = description


_SKIPPED_OBJECT = _Kind("an object")
_SKIPPED_ARRAY = _Kind("an array")
_MISSING = object()
_STREAMED = object()  # value.content, which went to the sink

_INLINE_WHITESPACE = re.compile(rb"[ \t\r]*")
_BLANK = re.compile(rb"[ \t\r\n]*")
_CONTROL = re.compile(rb"[\x00-\x1f]")
_NUMBER_CHARS = re.compile(rb"[-+.eE0-9]*")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")
_SIMPLE_ESCAPES = {
    ord('"'): '"',
    ord("\\"): "\\",
    ord("/"): "/",
    ord("b"): "\b",
    ord("f"): "\f",
    ord("n"): "\n",
    ord("r"): "\r",
    ord("t"): "\t",
}
_LITERALS = {ord("t"): (b"true", True), ord("f"): (b"false", False), ord("n"): (b"null", None)}
_NUMBER_START = frozenset(b"-0123456789")
_INLINE_WHITESPACE_BYTES = frozenset(b" \t\r")
_QUOTE, _BACKSLASH, _NEWLINE = ord('"'), ord("\\"), ord("\n")
_LBRACE, _RBRACE, _LBRACKET, _RBRACKET = ord("{"), ord("}"), ord("["), ord("]")
_COLON, _COMMA, _PAD = ord(":"), ord(","), ord("=")


def _describe(value: object) -> str:
    if isinstance(value, _Kind):
        return value.description
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a non-integer number"
    return "a string"


def _show_byte(byte: int) -> str:
    return f"character {chr(byte)!r}" if 0x20 <= byte < 0x7F else f"byte 0x{byte:02x}"


def _member_field(parent: str, name: str) -> str:
    shown = name if len(name) <= 64 else name[:64] + "…"
    return f"{parent}.{shown}" if parent else shown


class _Base64Decoder:
    """Strict streaming base64: decodes whole quartets, carries at most three characters."""

    __slots__ = ("_carry", "_fail", "_padded", "_sink", "size")

    def __init__(self, sink: ContentSink, fail: Callable[[str], NoReturn]) -> None:
        self._sink = sink
        self._fail = fail
        self._carry = b""
        self._padded = False
        self.size = 0

    def feed(self, data: bytes | memoryview) -> None:
        if self._carry:
            need = 4 - len(self._carry)
            self._carry += bytes(data[:need])
            data = data[need:]
            if len(self._carry) < 4:
                return
            quartet, self._carry = self._carry, b""
            self._emit(quartet)
        whole = len(data) & ~3
        if whole:
            self._emit(data[:whole])
        if whole < len(data):
            self._carry = bytes(data[whole:])

    def close(self) -> None:
        if self._carry:
            self._fail("is not valid base64: its length is not a multiple of 4")

    def _emit(self, quartets: bytes | memoryview) -> None:
        # One message for every alphabet and padding fault: binascii words the same fault
        # differently depending on where the chunk boundaries fell.
        if self._padded:
            self._fail("is not valid base64")
        try:
            decoded = binascii.a2b_base64(quartets, strict_mode=True)
        except binascii.Error:
            self._fail("is not valid base64")
        self._padded = quartets[-1] == _PAD
        self.size += len(decoded)
        if decoded:
            self._sink.write(decoded)


class _Decoder:
    """Recursive-descent parser over a :class:`_Reader`, one NDJSON line per :meth:`_document`."""

    def __init__(
        self,
        reader: _Reader,
        content_sink_factory: ContentSinkFactory,
        *,
        max_string_bytes: int,
        max_line_bytes: int,
        max_depth: int,
    ) -> None:
        self._reader = reader
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
            yield self._document()
        if not self._seen_header:
            self._fail("the payload holds no header line")

    def abort_open_sink(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.abort()

    def _fail(self, message: str) -> NoReturn:
        raise CommitPayloadError(message, self._line)

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

    # -- JSON ----------------------------------------------------------------------------------

    def _peek(self) -> int:
        """Skip inline whitespace and return the next byte of the current document, unconsumed."""
        reader = self._reader
        while True:
            buf, pos = reader.buf, reader.pos
            if pos < len(buf):
                if buf[pos] not in _INLINE_WHITESPACE_BYTES:
                    break
                reader.pos = pos = _INLINE_WHITESPACE.match(buf, pos).end()
                if pos < len(buf):
                    break
            self._check_line_budget()
            if not reader.fill():
                self._fail("the payload ends before the line's JSON object is complete")
        self._check_line_budget()
        byte = reader.buf[reader.pos]
        if byte == _NEWLINE:
            self._fail("the line ends before its JSON object is complete")
        return byte

    def _check_line_budget(self) -> None:
        used = self._reader.offset - self._line_start - self._content_bytes
        if used > self._max_line_bytes:
            self._fail(f"the line holds more than {self._max_line_bytes} bytes besides file content")

    def _members(self, field: str, depth: int, member: Callable[[str, str, int], None]) -> None:
        """Parse an object (reader at its ``{``), handing each member to ``member``."""
        if depth > self._max_depth:
            self._fail(f"field {field!r} nests deeper than {self._max_depth} levels")
        reader = self._reader
        reader.pos += 1
        if self._peek() == _RBRACE:
            reader.pos += 1
            return
        where = f"field {field!r}" if field else "the line object"
        while True:
            if self._peek() != _QUOTE:
                self._fail(f"expected a member name in {where}")
            name = self._bounded_string(f"a member name in {where}")
            if self._peek() != _COLON:
                self._fail(f"expected ':' in {where}")
            reader.pos += 1
            member(name, _member_field(field, name), depth)
            byte = self._peek()
            reader.pos += 1
            if byte == _RBRACE:
                return
            if byte != _COMMA:
                self._fail(f"expected ',' or '}}' in {where}")

    def _value(self, field: str, depth: int) -> object:
        """Parse any JSON value; containers are checked but not kept."""
        byte = self._peek()
        if byte == _QUOTE:
            return self._bounded_string(f"field {field!r}")
        if byte in _NUMBER_START:
            return self._number(field)
        if byte in _LITERALS:
            word, literal = _LITERALS[byte]
            reader = self._reader
            if not reader.ensure(len(word)):
                self._fail(f"the payload ends inside field {field!r}")
            if reader.buf[reader.pos : reader.pos + len(word)] != word:
                self._fail(f"invalid literal in field {field!r}")
            reader.pos += len(word)
            return literal
        if byte == _LBRACE:
            self._members(field, depth + 1, self._skip_member)
            return _SKIPPED_OBJECT
        if byte == _LBRACKET:
            self._array(field, depth + 1)
            return _SKIPPED_ARRAY
        self._fail(f"unexpected {_show_byte(byte)} in field {field!r}")

    def _skip_member(self, name: str, field: str, depth: int) -> None:
        """Member of an object nobody reads: parsed for validity, then dropped."""
        self._value(field, depth)

    def _array(self, field: str, depth: int) -> None:
        if depth > self._max_depth:
            self._fail(f"field {field!r} nests deeper than {self._max_depth} levels")
        reader = self._reader
        reader.pos += 1
        if self._peek() == _RBRACKET:
            reader.pos += 1
            return
        index = 0
        while True:
            self._value(f"{field}[{index}]", depth)
            byte = self._peek()
            reader.pos += 1
            if byte == _RBRACKET:
                return
            if byte != _COMMA:
                self._fail(f"expected ',' or ']' in field {field!r}")
            index += 1

    def _number(self, field: str) -> int | float:
        reader = self._reader
        token = b""
        while True:
            end = _NUMBER_CHARS.match(reader.buf, reader.pos).end()
            token += reader.buf[reader.pos : end]
            reader.pos = end
            if len(token) > MAX_NUMBER_CHARS:
                self._fail(f"field {field!r} holds a number longer than {MAX_NUMBER_CHARS} characters")
            if end < len(reader.buf) or not reader.fill():
                break
        match = _NUMBER.fullmatch(token)
        if match is None:
            self._fail(f"field {field!r} holds an invalid number {token.decode('ascii')!r}")
        if match.group(1) is None and match.group(2) is None:
            return int(token)
        return float(token)

    def _bounded_string(self, what: str) -> str:
        """Parse a string (reader at its opening quote) of at most ``max_string_bytes`` UTF-8 bytes."""
        self._reader.pos += 1
        limit = self._max_string_bytes
        text = bytearray()

        def raw(buf: bytes, pos: int, end: int) -> None:
            if len(text) + end - pos > limit:
                self._fail(f"{what} is longer than {limit} bytes")
            control = _CONTROL.search(buf, pos, end)
            if control is not None:
                self._fail(f"{what} holds an unescaped control character 0x{buf[control.start()]:02x}")
            text.extend(memoryview(buf)[pos:end])

        def escaped(char: str) -> None:
            text.extend(char.encode("utf-8"))
            if len(text) > limit:
                self._fail(f"{what} is longer than {limit} bytes")

        self._scan_string(what, raw, escaped)
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            self._fail(f"{what} is not valid UTF-8")

    def _scan_string(self, what: str, raw: Callable[[bytes, int, int], None], escaped: Callable[[str], None]) -> None:
        """Walk a string from just past its opening quote to just past its closing one.

        Unescaped runs go to ``raw(buf, start, end)`` in bulk (``bytes.find`` for the next quote or
        backslash, never a per-character loop); each decoded escape goes to ``escaped``.
        """
        reader = self._reader
        while True:
            buf, pos = reader.buf, reader.pos
            quote = buf.find(b'"', pos)
            end = quote if quote >= 0 else len(buf)
            backslash = buf.find(b"\\", pos, end)
            if backslash >= 0:
                end = backslash
            if end > pos:
                raw(buf, pos, end)
            reader.pos = end
            if end == quote:
                reader.pos += 1
                return
            if end == backslash:
                escaped(self._escape(what))
            elif not reader.fill():
                self._fail(f"the payload ends inside {what}")

    def _escape(self, what: str) -> str:
        """Decode the escape at the reader (a backslash), including a ``\\uD8xx\\uDCxx`` pair."""
        reader = self._reader
        if not reader.ensure(2):
            self._fail(f"the payload ends inside {what}")
        letter = reader.buf[reader.pos + 1]
        simple = _SIMPLE_ESCAPES.get(letter)
        if simple is not None:
            reader.pos += 2
            return simple
        if letter != ord("u"):
            self._fail(f"{what} holds an invalid escape: backslash then {_show_byte(letter)}")
        high = self._hex4(what)
        if 0xDC00 <= high <= 0xDFFF:
            self._fail(f"{what} holds an unpaired surrogate \\u{high:04x}")
        if not 0xD800 <= high <= 0xDBFF:
            return chr(high)
        if not reader.ensure(2):
            self._fail(f"the payload ends inside {what}")
        if reader.buf[reader.pos : reader.pos + 2] != b"\\u":
            self._fail(f"{what} holds an unpaired surrogate \\u{high:04x}")
        low = self._hex4(what)
        if not 0xDC00 <= low <= 0xDFFF:
            self._fail(f"{what} holds an unpaired surrogate \\u{high:04x}")
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))

    def _hex4(self, what: str) -> int:
        """Read ``\\uXXXX`` at the reader and return the code unit."""
        reader = self._reader
        if not reader.ensure(6):
            self._fail(f"the payload ends inside {what}")
        digits = reader.buf[reader.pos + 2 : reader.pos + 6]
        if _HEX4.fullmatch(digits) is None:
            self._fail(f"{what} holds an invalid \\u escape")
        reader.pos += 6
        return int(digits, 16)
