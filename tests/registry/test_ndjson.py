"""The streaming NDJSON commit-body decoder: real client bytes, JSON edge cases, limits, sinks, memory."""

import base64
import binascii
import hashlib
import io
import json
import random
import time
import tracemalloc
from collections.abc import Iterator

import httpx2
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete
from huggingface_hub._commit_api import _CopySource, _send_commit
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils._http import default_client_factory, set_client_factory

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


class RandomReads(io.RawIOBase):
    """Reads of a seeded random size between 1 and ``most`` bytes."""

    def __init__(self, data: bytes, seed: int, most: int) -> None:
        self._data = io.BytesIO(data)
        self._rng = random.Random(seed)
        self._most = most

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, self._rng.randint(1, self._most)))


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


# -- the real client's bytes ---------------------------------------------------------------------

BINARY = bytes(range(256)) * 11 + random.Random(7).randbytes(1001)
LFS_BYTES = random.Random(8).randbytes(2048)
LFS_SHA = hashlib.sha256(LFS_BYTES).hexdigest()
UNICODE_PATH = 'docs/données/日本語/😀 "quoted" \\ back.txt'
UNICODE_TEXT = "héllo wörld 😀\n".encode()
PARENT = "b" * 40
SUMMARY = 'Upload 😀 weights \u2028 "now"'
DESCRIPTION = "multi\nline\tdescription \\ with \x00 and \x1f"


@pytest.fixture(scope="module")
def client_body() -> bytes:
    """The exact commit body ``huggingface_hub`` sends, captured at its HTTP transport."""
    requests: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        request.read()
        requests.append(request)
        return httpx2.Response(
            200, json={"commitUrl": f"https://hub.test/alice/demo/commit/{'a' * 40}", "commitOid": "a" * 40}
        )

    regular = [
        CommitOperationAdd("empty.txt", b""),
        CommitOperationAdd("weights/blob.bin", BINARY),
        CommitOperationAdd(UNICODE_PATH, UNICODE_TEXT),
    ]
    for operation in regular:
        operation._upload_mode = "regular"  # what the preupload answer sets
    lfs = CommitOperationAdd("model.safetensors", LFS_BYTES)
    lfs._upload_mode = "lfs"
    lfs_pointer = {"size": len(LFS_BYTES), "oid": LFS_SHA, "pointerSize": 134}
    files_to_copy = {
        _CopySource(None, None, "weights/blob.bin", None): BINARY,
        _CopySource(None, None, "model.safetensors", None): RepoFile(
            path="model.safetensors", size=len(LFS_BYTES), oid="c" * 40, lfs=lfs_pointer
        ),
    }
    operations = [
        *regular,
        lfs,
        CommitOperationDelete("old.txt"),
        CommitOperationDelete("old_dir/"),
        CommitOperationCopy("weights/blob.bin", "copies/blob.bin"),
        CommitOperationCopy("model.safetensors", "copies/model.safetensors"),
    ]
    set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(answer)))
    try:
        _send_commit(
            operations=operations,
            files_to_copy=files_to_copy,
            commit_message=SUMMARY,
            commit_description=DESCRIPTION,
            repo_type="model",
            repo_id="alice/demo",
            headers={},
            revision="main",
            endpoint="https://hub.test",
            parent_commit=PARENT,
        )
    finally:
        set_client_factory(default_client_factory)
    [request] = requests
    assert request.url.path == "/api/models/alice/demo/commit/main"
    assert request.headers["content-type"] == "application/x-ndjson"
    return request.content


CLIENT_RECORDS = [
    HeaderLine(SUMMARY, DESCRIPTION, PARENT),
    FileLine("empty.txt", b"", 0),
    FileLine("weights/blob.bin", BINARY, len(BINARY)),
    FileLine(UNICODE_PATH, UNICODE_TEXT, len(UNICODE_TEXT)),
    LfsFileLine("model.safetensors", LFS_SHA, len(LFS_BYTES), "sha256"),
    DeletedFileLine("old.txt"),
    DeletedFolderLine("old_dir/"),
    FileLine("copies/blob.bin", BINARY, len(BINARY)),
    LfsFileLine("copies/model.safetensors", LFS_SHA, None, "sha256"),
]


def test_client_body_puts_content_before_path_and_escapes_non_ascii(client_body):
    lines = client_body.split(b"\n")
    assert lines[-1] == b""
    assert len(lines) == len(CLIENT_RECORDS) + 1
    assert lines[2].startswith(b'{"key": "file", "value": {"content": "')
    assert b"\\ud83d\\ude00" in lines[3]
    assert client_body.isascii()
    assert reference_decode(client_body) == CLIENT_RECORDS


@pytest.mark.parametrize("step", [*READ_SIZES, 1 << 20])
def test_client_body_round_trips_at_any_read_size(client_body, step):
    records, sinks = decode(client_body, step)
    assert records == CLIENT_RECORDS
    assert [sink.hint for sink in sinks.opened] == [None, None, None, None]  # the client sends content first
    assert sinks.count("finished") == 4


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 64])
def test_client_body_round_trips_at_any_chunk_size(client_body, chunk_size):
    sinks = Sinks()
    records = list(iter_commit_lines(io.BytesIO(client_body), content_sink_factory=sinks, chunk_size=chunk_size))
    assert records == CLIENT_RECORDS


# -- generated payloads against json ---------------------------------------------------------------

ALPHABET = [*"abcXYZ019 ./-_", '"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f"]
ALPHABET += ["é", "ß", "日", "本", "€", "\u2028", "\ufeff", "😀", "𝄞", "\U0010fffd"]


def random_text(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, most)))


def random_payload(rng: random.Random) -> tuple[bytes, list]:
    header = {"summary": random_text(rng, 20), "description": random_text(rng, 40)}
    if rng.random() < 0.5:
        header["parentCommit"] = f"{rng.getrandbits(160):040x}"
    lines = [("header", header)]
    for _ in range(rng.randint(0, 6)):
        kind = rng.choice(["file", "file", "lfsFile", "deletedFile", "deletedFolder"])
        path = random_text(rng, 30)
        if kind == "file":
            content = rng.randbytes(rng.choice([0, 1, 2, 3, 4, 5, 100, 3001]))
            value = {"path": path, "content": base64.b64encode(content).decode(), "encoding": "base64"}
        elif kind == "lfsFile":
            value = {"path": path, "algo": "sha256", "oid": f"{rng.getrandbits(256):064x}"}
            if rng.random() < 0.7:
                value["size"] = rng.choice([0, 1, 2**40, 2**64 + 1])
        else:
            value = {"path": path}
        lines.append((kind, value))
    body = bytearray()
    for kind, value in lines:
        members = list(value.items())
        rng.shuffle(members)
        top = [("key", kind), ("value", dict(members))]
        rng.shuffle(top)
        separators = rng.choice([(",", ":"), (", ", ": "), (" ,\t", " :\r ")])
        text = json.dumps(dict(top), ensure_ascii=rng.random() < 0.5, separators=separators)
        body += rng.choice([b"", b"\n", b" \t\r\n\n"]) + text.encode() + rng.choice([b"", b" ", b"\r"]) + b"\n"
    if rng.random() < 0.3:
        body = body.rstrip(b"\n")
    return bytes(body), reference_decode(bytes(body))


@pytest.mark.parametrize("seed", range(60))
def test_generated_payloads_match_json(seed):
    rng = random.Random(seed)
    body, expected = random_payload(rng)
    sinks = Sinks()
    records = list(iter_commit_lines(RandomReads(body, seed, rng.choice([1, 4, 50])), content_sink_factory=sinks))
    assert records == expected
    assert sinks.count("finished") == sum(isinstance(record, FileLine) for record in expected)
    assert sinks.count("aborted") == 0


# -- JSON details --------------------------------------------------------------------------------

ESCAPED = rb"q\" b\\ s\/ \b\f\n\r\t \u00e9\u00E9 \u0000 \ud83d\ude00 \uD834\uDD1E \u20ac"
UNESCAPED = 'q" b\\ s/ \b\f\n\r\t éé \x00 😀 𝄞 €'


@pytest.mark.parametrize("step", [*range(1, 14), 4096])
def test_every_escape_kind_in_messages_and_paths(step):
    body = (
        b'{"key":"header","value":{"summary":"' + ESCAPED + b'","description":"' + ESCAPED + b'"}}\n'
        b'{"key":"deletedFile","value":{"path":"' + ESCAPED + b'"}}\n'
        b'{"key":"file","value":{"path":"' + ESCAPED + rb'","encoding":"base64","content":"\/\/8\u003d"}}'
    )
    records, sinks = decode(body, step)
    assert records == [
        HeaderLine(UNESCAPED, UNESCAPED, None),
        DeletedFileLine(UNESCAPED),
        FileLine(UNESCAPED, b"\xff\xff", 2),
    ]
    assert sinks.opened[0].hint == UNESCAPED


@pytest.mark.parametrize("step", [1, 2, 3, 4096])
def test_raw_utf8_split_across_reads(step):
    path = "données/日本語/😀.bin"
    body = HEADER + json.dumps({"key": "deletedFolder", "value": {"path": path}}, ensure_ascii=False).encode()
    records, _ = decode(body, step)
    assert records == [HeaderLine("s", "", None), DeletedFolderLine(path)]


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        (rb'"a\x"', "field 'value.path' holds an invalid escape: backslash then character 'x'"),
        (rb'"\u12G4"', "field 'value.path' holds an invalid \\u escape"),
        (rb'"\ud83d"', "field 'value.path' holds an unpaired surrogate \\ud83d"),
        (rb'"\ude00"', "field 'value.path' holds an unpaired surrogate \\ude00"),
        (rb'"\ud83d\u0041"', "field 'value.path' holds an unpaired surrogate \\ud83d"),
        (rb'"\ud83dx"', "field 'value.path' holds an unpaired surrogate \\ud83d"),
        (b'"a\tb"', "field 'value.path' holds an unescaped control character 0x09"),
        (b'"a\xc3("', "field 'value.path' is not valid UTF-8"),
        (b'"\xed\xa0\xbd"', "field 'value.path' is not valid UTF-8"),
    ],
)
@pytest.mark.parametrize("step", [1, 4096])
def test_bad_strings(literal, message, step):
    error, records, _ = decode_error(HEADER + b'{"key":"deletedFile","value":{"path":' + literal + b"}}\n", step)
    assert str(error) == f"line 2: {message}"
    assert error.line == 2
    assert error.message == message
    assert records == [HeaderLine("s", "", None)]


@pytest.mark.parametrize("step", [1, 4096])
def test_whitespace_and_blank_lines(step):
    body = (
        b"\n\r\n  \t\n"
        b' { "key" : "header" ,\t"value" : { "summary" : "s" , "description" : "" } } \t\r\n'
        b"\n\n"
        b'{"key":"deletedFile","value":{"path":"a"}}'
    )
    records, _ = decode(body, step)
    assert records == [HeaderLine("s", "", None), DeletedFileLine("a")]
    error, records, _ = decode_error(body + b"\n\n  \n" + b'{"key":"deletedFile"}\n', step)
    assert str(error) == "line 10: missing field 'value'"
    assert len(records) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"key":"header",\n"value":{"summary":"s","description":""}}',
            "line 1: the line ends before its JSON object is complete",
        ),
        (HEADER.rstrip() + b" x", "line 1: unexpected data after the JSON object on its line"),
        (HEADER.rstrip() + HEADER, "line 1: unexpected data after the JSON object on its line"),
        (b'["header"]', "line 1: a line must hold a JSON object"),
        (b'{"key" "header"}', "line 1: expected ':' in the line object"),
        (b'{"key":"header" "value":{}}', "line 1: expected ',' or '}' in the line object"),
        (b'{"key":"header",}', "line 1: expected a member name in the line object"),
        (b'{"key":"header","value":{"a":}}', "line 1: unexpected character '}' in field 'value.a'"),
        (b'{"key":"header","value":{"a":[1 2]}}', "line 1: expected ',' or ']' in field 'value.a'"),
        (b'{"key":"header","value":{"a":nul}}', "line 1: invalid literal in field 'value.a'"),
        (b'{"key":"header","value":{"a":tru', "line 1: the payload ends inside field 'value.a'"),
        (b'{"key":"header","value":{"a":\xff}}', "line 1: unexpected byte 0xff in field 'value.a'"),
    ],
)
def test_json_syntax_errors(body, message):
    error, _, _ = decode_error(body)
    assert str(error) == message


def test_numbers_and_literals_are_exact():
    huge = 2**64 + 1
    body = HEADER + (
        b'{"key":"lfsFile","value":{"path":"a","algo":"sha256","oid":"o","size":%d,'
        b'"extra":[-0,0.5,-1.25e-3,1E+2,true,false,null,{"n":{"m":[]}},[]]}}\n'
        b'{"key":"lfsFile","value":{"path":"b","algo":"sha256","oid":"o","size":-0}}\n'
        b'{"key":"lfsFile","value":{"path":"c","algo":"sha256","oid":"o","size":null}}' % huge
    )
    for step in (1, 4096):
        records, _ = decode(body, step)
        assert records == [
            HeaderLine("s", "", None),
            LfsFileLine("a", "o", huge, "sha256"),
            LfsFileLine("b", "o", 0, "sha256"),
            LfsFileLine("c", "o", None, "sha256"),
        ]
        assert type(records[1].size) is int


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (b"01", "field 'value.size' holds an invalid number '01'"),
        (b"1.", "field 'value.size' holds an invalid number '1.'"),
        (b"2e", "field 'value.size' holds an invalid number '2e'"),
        (b"--1", "field 'value.size' holds an invalid number '--1'"),
        (b"+1", "unexpected character '+' in field 'value.size'"),
        (b"1" * 257, "field 'value.size' holds a number longer than 256 characters"),
        (b"1.0", "field 'value.size' must be a non-negative integer, got a non-integer number"),
        (b"1e3", "field 'value.size' must be a non-negative integer, got a non-integer number"),
        (b"-1", "field 'value.size' must be a non-negative integer, got -1"),
        (b"true", "field 'value.size' must be a non-negative integer, got a boolean"),
        (b'"12"', "field 'value.size' must be a non-negative integer, got a string"),
    ],
)
def test_bad_sizes(number, message):
    body = HEADER + b'{"key":"lfsFile","value":{"path":"a","algo":"sha256","oid":"o","size":' + number + b"}}"
    error, _, _ = decode_error(body, step=1)
    assert str(error) == f"line 2: {message}"


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


# -- limits --------------------------------------------------------------------------------------


def test_string_limit_default_is_64_kib():
    exactly = HEADER + b'{"key":"deletedFile","value":{"path":"' + b"a" * 65536 + b'"}}'
    records, _ = decode(exactly)
    assert records[1] == DeletedFileLine("a" * 65536)
    error, _, _ = decode_error(exactly.replace(b'"}}', b'a"}}'))
    assert str(error) == "line 2: field 'value.path' is longer than 65536 bytes"


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ('"path":"éééééé"', None),
        ('"path":"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"', None),
        ('"path":"ééééééa"', "field 'value.path' is longer than 12 bytes"),
        ('"path":"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9a"', "field 'value.path' is longer than 12 bytes"),
        ('"path":"éééééé","note":"1234567890123"', "field 'value.note' is longer than 12 bytes"),
        ('"path":"éééééé","1234567890123":1', "a member name in field 'value' is longer than 12 bytes"),
    ],
)
@pytest.mark.parametrize("step", [1, 4096])
def test_string_limit_counts_utf8_bytes(member, message, step):
    """The header's longest string is "description", 11 bytes, so a 12-byte limit passes it."""
    body = HEADER + ('{"key":"deletedFile","value":{' + member + "}}").encode()
    if message is None:
        records, _ = decode(body, step, max_string_bytes=12)
        assert records[1] == DeletedFileLine("éééééé")
    else:
        error, _, _ = decode_error(body, step, max_string_bytes=12)
        assert str(error) == f"line 2: {message}"


def test_summary_over_limit_names_the_field():
    body = b'{"key":"header","value":{"summary":"' + b"m" * 300 + b'","description":""}}'
    error, _, _ = decode_error(body, max_string_bytes=256)
    assert str(error) == "line 1: field 'value.summary' is longer than 256 bytes"


def test_line_budget_excludes_file_content():
    content = base64.b64encode(bytes(30000))
    body = HEADER + b'{"key":"file","value":{"path":"a","content":"' + content + b'","encoding":"base64"}}\n'
    records, _ = decode(body, max_line_bytes=100)
    assert records[1] == FileLine("a", bytes(30000), 30000)
    padded = HEADER + b'{"key":"deletedFile","value":{"path":"a","pad":[' + b"1," * 60 + b"1]}}\n"
    error, _, _ = decode_error(padded, max_line_bytes=100)
    assert str(error) == "line 2: the line holds more than 100 bytes besides file content"
    spaces = HEADER + b'{"key":"deletedFile","value":{"path":"a"}}' + b" " * 200 + b"\n"
    error, _, _ = decode_error(spaces, max_line_bytes=100)
    assert str(error) == "line 2: the line holds more than 100 bytes besides file content"


def test_nesting_depth():
    ok = HEADER + b'{"key":"deletedFile","value":{"path":"a","x":[[1]]}}'
    records, _ = decode(ok, max_depth=4)
    assert records[1] == DeletedFileLine("a")
    error, _, _ = decode_error(ok.replace(b"[[1]]", b"[[[1]]]"), max_depth=4)
    assert str(error) == "line 2: field 'value.x[0][0]' nests deeper than 4 levels"
    error, _, _ = decode_error(ok.replace(b"[[1]]", b'{"y":{"z":{}}}'), max_depth=4)
    assert str(error) == "line 2: field 'value.x.y.z' nests deeper than 4 levels"


def test_deep_nesting_does_not_exhaust_the_stack():
    body = HEADER + b'{"key":"deletedFile","value":{"path":"a","x":' + b"[" * 100000 + b"]" * 100000 + b"}}"
    error, _, _ = decode_error(body)
    assert str(error) == "line 2: field 'value.x" + "[0]" * 30 + "' nests deeper than 32 levels"


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


# -- memory and speed ----------------------------------------------------------------------------


class InlinedFileBody(io.RawIOBase):
    """A commit body with one ``size``-byte file inlined, produced on the fly (never held whole)."""

    def __init__(self, size: int, seed: int) -> None:
        self.sha256 = hashlib.sha256()
        self._pieces = self._generate(size, random.Random(seed))
        self._piece = b""

    def _generate(self, size: int, rng: random.Random) -> Iterator[bytes]:
        yield HEADER + b'{"key":"file","value":{"content":"'
        left = size
        while left:
            raw = rng.randbytes(min(left, 3 * 256 * 1024))
            self.sha256.update(raw)
            left -= len(raw)
            yield base64.b64encode(raw)
        yield b'","path":"big.bin","encoding":"base64"}}\n'

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._piece:
            self._piece = next(self._pieces, None)
            if self._piece is None:
                self._piece = b""
                return b""
        data, self._piece = self._piece[:size], self._piece[size:]
        return data


class HashingSink:
    def __init__(self, hint: str | None) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)

    def finish(self) -> "HashingSink":
        return self

    def abort(self) -> None:
        raise AssertionError("nothing went wrong")


@pytest.mark.slow
def test_256_mib_inlined_file_decodes_in_bounded_memory():
    size = 256 << 20
    body = InlinedFileBody(size, seed=1)
    tracemalloc.start()
    try:
        records = list(iter_commit_lines(body, content_sink_factory=HashingSink))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak / 2**20:.1f} MiB"
    header, big = records
    assert header == HeaderLine("s", "", None)
    assert (big.path, big.size, big.content_handle.size) == ("big.bin", size, size)
    assert big.content_handle.sha256.digest() == body.sha256.digest()
    print(f"\n256 MiB inlined file: tracemalloc peak {peak / 2**20:.2f} MiB")


@pytest.mark.slow
def test_decode_throughput_against_whole_body_baselines():
    """Prints the decoder's speed next to decoding the same line whole (no timing assertion)."""
    raw = random.Random(3).randbytes(48 << 20)
    content = base64.b64encode(raw)
    line = b'{"key":"file","value":{"content":"' + content + b'","path":"p","encoding":"base64"}}\n'
    body = HEADER + line

    def best(run) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    class CountingSink(HashingSink):
        def write(self, data: bytes) -> None:
            self.size += len(data)

    def streaming(sink_factory) -> list:
        return list(iter_commit_lines(io.BytesIO(body), content_sink_factory=sink_factory))

    streamed = best(lambda: streaming(CountingSink))
    floor = best(lambda: binascii.a2b_base64(content, strict_mode=True))
    whole = best(lambda: base64.b64decode(json.loads(line)["value"]["content"], validate=True))
    [_, decoded] = streaming(HashingSink)
    assert decoded.content_handle.sha256.digest() == hashlib.sha256(raw).digest()
    mb = len(content) / 1e6
    print(
        f"\nbase64 content {mb:.0f} MB: streaming decoder {mb / streamed:.0f} MB/s, "
        f"a2b_base64 alone {mb / floor:.0f} MB/s, json.loads + b64decode of the whole line {mb / whole:.0f} MB/s"
    )
