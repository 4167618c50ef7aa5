"""The NDJSON decoder against references: the real client's bytes, generated payloads decoded by json."""

import base64
import hashlib
import io
import json
import random

import httpx2
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete
from huggingface_hub._commit_api import _CopySource, _send_commit
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils._http import default_client_factory, set_client_factory

from registry.ndjson import DeletedFileLine, DeletedFolderLine, FileLine, HeaderLine, LfsFileLine, iter_commit_lines
from tests.registry.ndjson.decoding import READ_SIZES, Sinks, decode, reference_decode


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
