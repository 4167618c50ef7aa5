"""Streaming JSON of the NDJSON decoder: escapes, UTF-8, whitespace, syntax errors, numbers, limits."""

import base64
import json

import pytest

from registry.ndjson import DeletedFileLine, DeletedFolderLine, FileLine, HeaderLine, LfsFileLine
from tests.registry.ndjson.decoding import HEADER, decode, decode_error

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
