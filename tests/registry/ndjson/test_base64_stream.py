"""Streaming base64 of ``value.content``: strict decoding across reads, and the sink aborted on error."""

import base64

import pytest

from registry.ndjson import FileLine
from tests.registry.ndjson.decoding import HEADER, READ_SIZES, decode, decode_error


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"QUJ!", "is not valid base64"),
        (b"QQ=A", "is not valid base64"),
        (b"QQ==QUJD", "is not valid base64"),
        (b"QUJDQQ==QUJD", "is not valid base64"),
        (b"QUJD QUJD", "is not valid base64"),
        (rb"QUJD\nQUJD", "is not valid base64"),
        (rb"QUJ\u00e9", "is not valid base64"),
        (b"QUJ\x80", "is not valid base64"),
        (b"=QUJ", "is not valid base64"),
        (b"Q===", "is not valid base64"),
        (b"QUJ", "is not valid base64: its length is not a multiple of 4"),
        (b"QUJDQ", "is not valid base64: its length is not a multiple of 4"),
        (b"QQ==Q", "is not valid base64: its length is not a multiple of 4"),
    ],
)
@pytest.mark.parametrize("step", READ_SIZES)
def test_bad_base64_aborts_the_sink(content, message, step):
    body = HEADER + b'{"key":"file","value":{"path":"a","content":"' + content + b'","encoding":"base64"}}\n'
    error, _, sinks = decode_error(body, step)
    assert str(error) == f"line 2: field 'value.content' {message}"
    assert (len(sinks.opened), sinks.count("aborted")) == (1, 1)


@pytest.mark.parametrize("step", READ_SIZES)
def test_padding_on_a_quartet_boundary_of_a_read(step):
    content = base64.b64encode(b"x" * 4000)  # ends in "=" only at the very end
    body = HEADER + b'{"key":"file","value":{"path":"a","content":"' + content + b'","encoding":"base64"}}'
    records, _ = decode(body, step)
    assert records[1] == FileLine("a", b"x" * 4000, 4000)
