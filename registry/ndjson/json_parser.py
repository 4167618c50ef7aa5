"""Streaming JSON for the commit decoder: a window on the byte stream, lexical tables, and values.

``_JsonParser`` parses the values of one NDJSON line, bounded in string length, line length and
depth, and hands object members to callbacks; what the members mean is for ``_Decoder``
(``decoder``), which subclasses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import BinaryIO, NoReturn

from registry.ndjson.records import CommitPayloadError

# Longest number token accepted. Sizes need 20 digits at most; the cap also keeps int() linear.
MAX_NUMBER_CHARS = 256


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
_COLON, _COMMA = ord(":"), ord(",")


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


class _JsonParser:
    """JSON values over a :class:`_Reader`, within the bounds of the NDJSON line being read."""

    # Set by ``_Decoder.__init__``; the line's start and content bytes are reset for each document.
    _reader: _Reader
    _line: int
    _max_string_bytes: int
    _max_line_bytes: int
    _max_depth: int
    _line_start: int
    _content_bytes: int

    def _fail(self, message: str) -> NoReturn:
        raise CommitPayloadError(message, self._line)

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
