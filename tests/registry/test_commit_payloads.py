"""The NDJSON commit endpoint with hand-built payloads: bad input, and bounded memory."""

import base64
import hashlib
import json
import threading
import tracemalloc

import httpx
import pytest
from django.test import Client

from registry.models import Repo
from tests.support.factories import make_token, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    user = make_user("alice")
    secret = make_token(user)
    response = Client().post(
        "/api/repos/create", {"name": "tiny"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200
    return secret


def _commit(token, lines, path="/api/models/alice/tiny/commit/main"):
    body = "\n".join(json.dumps(line) for line in lines).encode()
    return Client().post(path, body, content_type="application/x-ndjson", HTTP_AUTHORIZATION=f"Bearer {token}")


HEADER = {"key": "header", "value": {"summary": "test", "description": ""}}


def _file(path, data=b"x"):
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"}}


@pytest.mark.parametrize("path", ["../x", "..\\ddd", "/abs", "a//b", "a/./b", ".git/hooks/x"])
def test_bad_paths_are_422(token, path):
    response = _commit(token, [HEADER, _file(path)])
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_path"
    assert Repo.objects.get().commits.count() == 1


@pytest.mark.parametrize(
    ("lines", "status", "message"),
    [
        ([_file("a.txt")], 400, "Malformed commit payload (line 1)"),
        ([HEADER, {"key": "bogus", "value": {}}], 400, "Malformed commit payload (line 2)"),
        ([HEADER, {"key": "deletedFile", "value": {"path": "nope.txt"}}], 404, "A file with this name doesn't exist"),
        ([HEADER, {"key": "deletedFolder", "value": {"path": "nope/"}}], 404, "A folder with this name doesn't exist"),
        ([HEADER, {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": "0" * 64, "size": 3}}], 400,
         "was not uploaded to this repository"),
        ([HEADER, _file("a/b.txt"), _file("a")], 422, "a folder with this name exists"),
    ],
)  # fmt: skip
def test_bad_payloads_change_nothing(token, lines, status, message):
    response = _commit(token, lines)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert Repo.objects.get().commits.count() == 1


def test_malformed_base64_and_json(token):
    body = json.dumps(HEADER) + "\n" + '{"key":"file","value":{"path":"a","content":"@@@","encoding":"base64"}}'
    response = Client().post(
        "/api/models/alice/tiny/commit/main", body, content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 400
    truncated = Client().post(
        "/api/models/alice/tiny/commit/main", json.dumps(HEADER)[:-5], content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert truncated.status_code == 400
    assert Repo.objects.get().commits.count() == 1


class _Base64Payload:
    """A commit body with one large inline file, produced on the fly (never whole in memory)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.digest = hashlib.sha256()
        head = json.dumps(HEADER) + '\n{"key":"file","value":{"path":"big.bin","content":"'
        self.parts = [head.encode(), None, b'","encoding":"base64"}}']
        self.length = len(self.parts[0]) + 4 * ((size + 2) // 3) + len(self.parts[2])

    def __iter__(self):
        yield self.parts[0]
        remaining, block = self.size, 3 * 1024 * 1024
        counter = 0
        while remaining:
            n = min(block, remaining)
            chunk = (counter.to_bytes(8, "little") * (n // 8 + 1))[:n]
            counter += 1
            self.digest.update(chunk)
            yield base64.b64encode(chunk)
            remaining -= n
        yield self.parts[2]


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_large_inline_commit_streams_with_bounded_memory(live_server):
    user = make_user("bigfile")
    secret = make_token(user)
    httpx.post(
        f"{live_server.url}/api/repos/create", json={"name": "big"}, headers={"Authorization": f"Bearer {secret}"}
    )
    payload = _Base64Payload(150 * 1024 * 1024)
    peak = {}

    def run():
        tracemalloc.start()
        response = httpx.post(
            f"{live_server.url}/api/models/bigfile/big/commit/main",
            content=iter(payload),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/x-ndjson",
                     "Content-Length": str(payload.length)},
            timeout=300,
        )  # fmt: skip
        peak["bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peak["status"] = response.status_code

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(300)
    assert peak["status"] == 200
    # Client generator, server decoder and hashing together stay far below the 200 MB body.
    assert peak["bytes"] < 48 * 1024 * 1024, peak
    head = httpx.head(
        f"{live_server.url}/bigfile/big/resolve/main/big.bin", headers={"Authorization": f"Bearer {secret}"}
    )
    assert head.headers["X-Linked-Etag"] == f'"{payload.digest.hexdigest()}"'
    assert head.headers["X-Linked-Size"] == str(150 * 1024 * 1024)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("evil\u202etxt.exe", "bidirectional control characters"),
        ("a\u2066b.txt", "bidirectional control characters"),
        (" lead.txt", "may not start or end with a space"),
        ("trail.txt ", "may not start or end with a space"),
        ("folder /x.txt", "may not start or end with a space"),
    ],
)
def test_misleading_file_names_are_refused(token, path, reason):
    response = _commit(token, [HEADER, _file(path)])
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_path"
    assert reason in response.json()["error"]
    assert Repo.objects.get().commits.count() == 1


def test_a_commit_may_hold_at_most_the_configured_lines(token, settings):
    settings.HUB_COMMIT_MAX_LINES = 100
    response = _commit(token, [HEADER, *(_file(f"f{n}.txt") for n in range(100))])
    assert response.status_code == 400
    assert response.json()["error"] == "Malformed commit payload (line 101): the payload holds more than 100 lines"
    assert _commit(token, [HEADER, *(_file(f"f{n}.txt") for n in range(99))]).status_code == 200


def test_commit_bodies_stream_past_the_body_cap(token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    response = _commit(token, [HEADER, _file("big.bin", b"\x00" * 200_000)])
    assert response.status_code == 200
    assert Repo.objects.get().commits.count() == 2


def test_an_lfs_size_past_what_the_database_holds_is_a_400(token):
    lfs = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": "0" * 64, "size": 10**30}}
    response = _commit(token, [HEADER, lfs])
    assert response.status_code == 400
    assert response.json()["fields"] == {"size": [f"must be between 0 and {2**63 - 1}."]}
