"""The commit schema of the NDJSON decoder: line order, fields and their types, sinks and the consumer."""

import io

import pytest

from registry.ndjson import DeletedFileLine, FileLine, HeaderLine, iter_commit_lines
from tests.registry.ndjson.decoding import (
    HEADER,
    RecordingSink,
    ShortReads,
    Sinks,
    decode,
    decode_error,
    reference_decode,
)

# -- the commit schema ---------------------------------------------------------------------------


def test_header_must_come_first():
    body = b'{"key":"file","value":{"path":"a","content":"QUJD","encoding":"base64"}}\n' + HEADER
    error, records, sinks = decode_error(body)
    assert str(error) == "line 1: the first line must be the header, got 'file'"
    assert (records, sinks.opened) == ([], [])


def test_header_must_come_first_even_when_key_follows_value():
    body = b'{"value":{"path":"a","content":"QUJD","encoding":"base64"},"key":"file"}\n' + HEADER
    error, _, sinks = decode_error(body, step=1)
    assert str(error) == "line 1: the first line must be the header, got 'file'"
    assert (len(sinks.opened), sinks.count("aborted")) == (1, 1)


def test_header_comes_once():
    body = HEADER + b'{"key":"deletedFile","value":{"path":"a"}}\n' + HEADER
    error, records, _ = decode_error(body)
    assert str(error) == "line 3: a second header line; the header comes once, first"
    assert records == [HeaderLine("s", "", None), DeletedFileLine("a")]


@pytest.mark.parametrize(("body", "line"), [(b"", 1), (b"\n\n  \r\n", 4)])
def test_empty_payload_has_no_header(body, line):
    error, _, _ = decode_error(body)
    assert str(error) == f"line {line}: the payload holds no header line"


def test_header_optional_fields():
    body = (
        b'{"key":"header","value":{"summary":"s","parentCommit":null}}\n'
        b'{"key":"deletedFile","value":{"path":"a","future":{"x":[1,"y"]}},"also":1}\n'
    )
    records, _ = decode(body)
    assert records == [HeaderLine("s", "", None), DeletedFileLine("a")]


def test_unknown_key():
    error, _, sinks = decode_error(HEADER + b'{"key":"renameFile","value":{"content":"QUJD"}}\n')
    assert str(error) == "line 2: unknown line key 'renameFile'"
    assert sinks.opened == []


FILE_OPEN = b'{"key":"file","value":{'
LFS_OPEN = b'{"key":"lfsFile","value":{"path":"a","algo":"sha256","oid":"o",'


@pytest.mark.parametrize(
    ("line", "message", "opened"),
    [
        (b'{"value":{"path":"a"}}', "missing field 'key'", 0),
        (b'{"key":"deletedFile"}', "missing field 'value'", 0),
        (b'{"key":"deletedFile","value":"a"}', "field 'value' must be an object, got a string", 0),
        (b'{"key":"deletedFile","value":[1]}', "field 'value' must be an object, got an array", 0),
        (b'{"key":5,"value":{}}', "field 'key' must be a string, got an integer", 0),
        (b'{"key":"deletedFile","value":{}}', "missing field 'value.path'", 0),
        (b'{"key":"deletedFolder","value":{"path":7}}', "field 'value.path' must be a string, got an integer", 0),
        (b'{"key":"deletedFolder","value":{"path":{}}}', "field 'value.path' must be a string, got an object", 0),
        (b'{"key":"lfsFile","value":{"path":"a","algo":"sha256"}}', "missing field 'value.oid'", 0),
        (b'{"key":"lfsFile","value":{"path":"a","oid":"o"}}', "missing field 'value.algo'", 0),
        (
            b'{"key":"lfsFile","value":{"path":"a","algo":"sha256","oid":null}}',
            "field 'value.oid' must be a string, got null",
            0,
        ),
        (b'{"key":"deletedFile","key":"deletedFile"}', "duplicate field 'key'", 0),
        (b'{"key":"deletedFile","value":{"path":"a","path":"b"}}', "duplicate field 'value.path'", 0),
        (FILE_OPEN + b'"path":"a","encoding":"base64"}}', "missing field 'value.content'", 0),
        (FILE_OPEN + b'"path":"a","content":"QUJD"}}', "missing field 'value.encoding'", 1),
        (FILE_OPEN + b'"path":"a","content":5,"encoding":"base64"}}', "field 'value.content' must be a string", 0),
        (
            FILE_OPEN + b'"encoding":"utf-8","content":"QUJD","path":"a"}}',
            "field 'value.encoding' is 'utf-8'; the only supported encoding is 'base64'",
            0,
        ),
        (
            FILE_OPEN + b'"content":"QUJD","encoding":"utf-8","path":"a"}}',
            "field 'value.encoding' is 'utf-8'; the only supported encoding is 'base64'",
            1,
        ),
        (
            b'{"value":{"content":"QUJD","encoding":null,"path":"a"},"key":"file"}',
            "field 'value.encoding' is null; the only supported encoding is 'base64'",
            1,
        ),
        (
            FILE_OPEN + b'"content":"QUJD","content":"QUJD","encoding":"base64"}}',
            "duplicate field 'value.content'",
            1,
        ),
        (LFS_OPEN + b'"content":"QUJD"}}', "field 'value.content' is only allowed on 'file' lines, not 'lfsFile'", 0),
        (
            b'{"value":{"content":"QUJD","path":"a"},"key":"deletedFile"}',
            "field 'value.content' is only allowed on 'file' lines, not 'deletedFile'",
            1,
        ),
    ],
)
def test_missing_ill_typed_and_duplicate_fields(line, message, opened):
    error, records, sinks = decode_error(HEADER + b"\n" + line + b"\n")
    assert str(error) == f"line 3: {message}"
    assert records == [HeaderLine("s", "", None)]
    assert (len(sinks.opened), sinks.count("aborted")) == (opened, opened)


def test_path_hint_only_when_path_comes_first():
    body = HEADER + (
        b'{"key":"file","value":{"path":"first.bin","content":"QUJD","encoding":"base64"}}\n'
        b'{"key":"file","value":{"content":"QUJD","path":"second.bin","encoding":"base64"}}\n'
    )
    records, sinks = decode(body)
    assert [sink.hint for sink in sinks.opened] == ["first.bin", None]
    assert records[1:] == [FileLine("first.bin", b"ABC", 3), FileLine("second.bin", b"ABC", 3)]


def test_truncation_at_every_position():
    lines = [
        HEADER.rstrip(b"\n"),
        b'{"key":"file","value":{"path":"h.txt","content":"aGVsbG8gd29ybGQ=","encoding":"base64"}}',
        b'{"key":"lfsFile","value":{"path":"w","algo":"sha256","oid":"' + b"0" * 64 + b'","size":12}}',
        b'{"key":"deletedFile","value":{"path":"\\u00e9"}}',
    ]
    body = b"\n".join(lines) + b"\n"
    ends = []  # offset just past each line's closing brace
    for line in lines:
        ends.append((ends[-1] + 1 if ends else 0) + len(line))
    content_quote = len(lines[0]) + 1 + lines[1].index(b'"content":"') + len(b'"content":')
    full = reference_decode(body)
    for cut in range(len(body)):
        complete = sum(end <= cut for end in ends)
        sink_opened = cut > content_quote
        sink_finished = cut >= ends[1]
        if cut in ends or cut - 1 in ends:
            records, sinks = decode(body[:cut], step=3)
            assert records == full[:complete], cut
        else:
            error, records, sinks = decode_error(body[:cut], step=3)
            assert error.line == complete + 1, cut
            assert records == full[:complete], cut
        assert len(sinks.opened) == int(sink_opened), cut
        assert sinks.count("finished") == int(sink_finished), cut
        assert sinks.count("aborted") == int(sink_opened and not sink_finished), cut


# -- sinks and the consumer ------------------------------------------------------------------------


def test_consumer_closing_early_opens_no_further_sink():
    body = HEADER + (
        b'{"key":"file","value":{"path":"a","content":"QUJD","encoding":"base64"}}\n'
        b'{"key":"file","value":{"path":"b","content":"QUJD","encoding":"base64"}}\n'
    )
    sinks = Sinks()
    lines = iter_commit_lines(ShortReads(body, 1), content_sink_factory=sinks)
    assert next(lines) == HeaderLine("s", "", None)
    assert next(lines) == FileLine("a", b"ABC", 3)
    lines.close()
    assert [(sink.hint, sink.state) for sink in sinks.opened] == [("a", "finished")]


def test_closing_while_a_sink_is_open_aborts_it():
    """A stream that raises mid-content stands for a client disconnect."""

    class Disconnects(io.RawIOBase):
        def __init__(self) -> None:
            self._parts = [HEADER + b'{"key":"file","value":{"path":"a","content":"QUJD']

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if self._parts:
                return self._parts.pop()
            raise ConnectionResetError("client went away")

    sinks = Sinks()
    with pytest.raises(ConnectionResetError):
        list(iter_commit_lines(Disconnects(), content_sink_factory=sinks))
    assert [(sink.data, sink.state) for sink in sinks.opened] == [(bytearray(b"ABC"), "aborted")]


class FullDisk(RecordingSink):
    def write(self, data: bytes) -> None:
        raise OSError("disk full")


class Unfinishable(RecordingSink):
    def finish(self) -> bytes:
        raise OSError("rename failed")


@pytest.mark.parametrize(("sink_class", "message"), [(FullDisk, "disk full"), (Unfinishable, "rename failed")])
def test_sink_errors_propagate_and_abort(sink_class, message):
    """A sink's own error is not a payload error: it propagates as is, after the sink is aborted."""
    opened: list[RecordingSink] = []

    def factory(hint: str | None) -> RecordingSink:
        opened.append(sink_class(hint))
        return opened[-1]

    body = HEADER + b'{"key":"file","value":{"path":"a","content":"QUJD","encoding":"base64"}}\n'
    with pytest.raises(OSError) as caught:
        list(iter_commit_lines(io.BytesIO(body), content_sink_factory=factory))
    assert type(caught.value) is OSError
    assert str(caught.value) == message
    assert [sink.state for sink in opened] == ["aborted"]
