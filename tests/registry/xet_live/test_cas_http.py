"""The Xet endpoints over HTTP against a live hub: tokens, refusals that leave nothing visible, read scoping."""

import io
import json
import time

import httpx
import pytest

from registry.models import Blob, RepoBlob, XetFile, Xorb
from registry.storage import staging_dir
from registry.xet.xorb import iter_chunk_data, parse_xorb
from tests.registry.xet_live.builders import BuiltFile, build_file, shard_body
from tests.support.factories import make_token
from tests.support.hf import hub_client, random_bytes

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _token(hub, repo_id: str, scope: str, revision: str = "main", *, hub_token: str | None = None) -> httpx.Response:
    secret = hub.token if hub_token is None else hub_token
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.get(f"{hub.url}/api/models/{repo_id}/xet-{scope}-token/{revision}", headers=headers)


def _cas(hub, repo_id: str, scope: str) -> tuple[str, dict[str, str]]:
    body = _token(hub, repo_id, scope).raise_for_status().json()
    return body["casUrl"], {"Authorization": f"Bearer {body['accessToken']}"}


def _upload(hub, repo_id: str, built: BuiltFile) -> tuple[httpx.Response, httpx.Response]:
    cas, auth = _cas(hub, repo_id, "write")
    xorb = httpx.post(f"{cas}/v1/xorbs/default/{built.xorb_hash}", content=built.xorb_body, headers=auth)
    shard = httpx.post(f"{cas}/v1/shards", content=shard_body(built.shard_file), headers=auth)
    return xorb, shard


def _commit_lfs(hub, repo_id: str, sha256: str, size: int) -> httpx.Response:
    lines = [
        {"key": "header", "value": {"summary": "add w.bin", "description": ""}},
        {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": sha256, "size": size}},
    ]
    return httpx.post(
        f"{hub.url}/api/models/{repo_id}/commit/main",
        content="\n".join(json.dumps(line) for line in lines),
        headers={"Authorization": f"Bearer {hub.token}", "Content-Type": "application/x-ndjson"},
    )


@pytest.fixture
def alice(live_server):
    hub = hub_client(live_server.url)
    hub.api.create_repo("tiny")
    return hub


@pytest.fixture
def bob(live_server):
    hub = hub_client(live_server.url, username="bob")
    hub.api.create_repo("pub")
    return hub


def test_token_answer_carries_the_cas_url_and_token_in_body_and_headers(alice):
    before = int(time.time())
    answer = _token(alice, "alice/tiny", "write")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"accessToken", "exp", "casUrl"}
    assert body["casUrl"] == f"{alice.url}/xet"
    assert before + 3600 <= body["exp"] <= int(time.time()) + 3600
    assert answer.headers["X-Xet-Cas-Url"] == body["casUrl"]
    assert answer.headers["X-Xet-Access-Token"] == body["accessToken"]
    assert answer.headers["X-Xet-Token-Expiration"] == str(body["exp"])
    pr = _token(alice, "alice/tiny", "write", "None?create_pr=1")
    assert pr.status_code == 200
    assert pr.json()["casUrl"] == f"{alice.url}/xet"
    assert _token(alice, "alice/tiny", "write", "refs%2Fpr%2F1").status_code == 200
    assert _token(alice, "alice/tiny", "read").status_code == 200


def test_write_tokens_need_write_access(alice, bob):
    denied = _token(bob, "alice/tiny", "write")
    assert (denied.status_code, denied.json()["error"]) == (403, "You are not allowed to write to alice/tiny.")
    read_only = make_token(alice.user, role="read", name="ro")
    assert _token(alice, "alice/tiny", "write", hub_token=read_only).status_code == 403
    assert _token(alice, "alice/tiny", "write", hub_token="").status_code == 401
    assert _token(alice, "alice/tiny", "read", hub_token="").status_code == 200
    # Anyone who reads a repository may propose changes: a pull-request upload token, for uploads only.
    built = build_file(random_bytes(10_000, seed=29))
    for revision in ("None?create_pr=1", "refs%2Fpr%2F3"):
        proposal = _token(bob, "alice/tiny", "write", revision).json()
        auth = {"Authorization": f"Bearer {proposal['accessToken']}"}
        url = f"{proposal['casUrl']}/v1/xorbs/default/{built.xorb_hash}"
        assert httpx.post(url, content=built.xorb_body, headers=auth).status_code == 200
    assert _token(bob, "alice/tiny", "write", "None?create_pr=1", hub_token="").status_code == 401
    bob_read_only = make_token(bob.user, role="read", name="ro")
    assert _token(bob, "alice/tiny", "write", "None?create_pr=1", hub_token=bob_read_only).status_code == 403
    alice.api.update_repo_settings("alice/tiny", private=True)
    hidden = _token(bob, "alice/tiny", "read")
    assert (hidden.status_code, hidden.headers["X-Error-Code"]) == (404, "RepoNotFound")
    unknown = _token(alice, "alice/tiny", "read", "nope")
    assert (unknown.status_code, unknown.headers["X-Error-Code"]) == (404, "RevisionNotFound")


def test_cas_checks_the_access_token_on_every_call(alice):
    built = build_file(random_bytes(10_000, seed=30))
    url = f"{alice.url}/xet/v1/xorbs/default/{built.xorb_hash}"
    assert httpx.post(url, content=built.xorb_body).status_code == 401
    assert httpx.post(url, content=built.xorb_body, headers={"Authorization": "Bearer forged"}).status_code == 401
    _, read_auth = _cas(alice, "alice/tiny", "read")
    assert httpx.post(url, content=built.xorb_body, headers=read_auth).status_code == 403
    assert Xorb.objects.count() == 0


def test_upload_then_commit_then_read_back_through_signed_ranges(alice):
    built = build_file(random_bytes(200_000, seed=31))
    xorb, shard = _upload(alice, "alice/tiny", built)
    assert (xorb.status_code, xorb.json()) == (200, {"was_inserted": True})
    assert (shard.status_code, shard.json()) == (200, {"result": 1})
    assert _commit_lfs(alice, "alice/tiny", built.sha256, len(built.content)).status_code == 200
    cas, auth = _cas(alice, "alice/tiny", "read")
    answer = httpx.get(f"{cas}/v1/reconstructions/{built.file_hash}", headers=auth | {"Range": "bytes=70000-140000"})
    assert answer.status_code == 200
    body = answer.json()
    # Chunks are 64 KiB: bytes 70000-140000 lie in chunks 1 and 2.
    assert body["offset_into_first_range"] == 70000 - 65536
    assert body["terms"] == [{"hash": built.xorb_hash, "unpacked_length": 131072, "range": {"start": 1, "end": 3}}]
    (fetch,) = body["fetch_info"][built.xorb_hash]
    start, end = fetch["url_range"]["start"], fetch["url_range"]["end"]
    assert fetch["url"].startswith(f"{alice.url}/xet/data/")
    data = httpx.get(fetch["url"], headers={"Range": f"bytes={start}-{end}"})
    assert data.status_code == 206
    assert data.headers["Content-Range"] == f"bytes {start}-{end}/{len(built.xorb_body)}"
    assert data.content == built.xorb_body[start : end + 1]
    chunks = parse_xorb(io.BytesIO(built.xorb_body), None).chunks[1:3]
    decoded = b"".join(iter_chunk_data(io.BytesIO(data.content), chunks, verify_hashes=True))
    assert decoded == built.content[65536 : 3 * 65536]
    # The URL grants that range only, and only as signed.
    assert start > 0
    assert httpx.get(fetch["url"], headers={"Range": f"bytes=0-{end}"}).status_code == 403
    assert httpx.get(fetch["url"], headers={"Range": f"bytes={start}-{end + 1}"}).status_code == 403
    assert httpx.get(fetch["url"][:-3] + "abc", headers={"Range": f"bytes={start}-{end}"}).status_code == 403
    past = httpx.get(f"{cas}/v1/reconstructions/{built.file_hash}", headers=auth | {"Range": "bytes=200000-200001"})
    assert (past.status_code, past.headers["Content-Range"]) == (416, "bytes */200000")


def _nothing_visible(hub, built: BuiltFile, claimed: str) -> None:
    assert XetFile.objects.count() == 0
    assert Blob.objects.filter(sha256__in=[built.sha256, claimed]).count() == 0
    assert RepoBlob.objects.filter(blob__sha256__in=[built.sha256, claimed]).count() == 0
    assert hub.api.list_repo_files("alice/tiny") == [".gitattributes"]
    refused = _commit_lfs(hub, "alice/tiny", claimed, len(built.content))
    assert refused.status_code == 400
    assert "was not uploaded to this repository" in refused.json()["error"]
    assert [p for p in staging_dir().rglob("*") if p.is_file()] == []


def test_forged_shard_is_refused_with_400_and_leaves_nothing_visible(alice):
    content = random_bytes(150_000, seed=32)
    claimed = build_file(random_bytes(150_000, seed=33)).sha256
    forged = build_file(content, claimed_sha256=claimed)
    xorb, shard = _upload(alice, "alice/tiny", forged)
    assert xorb.status_code == 200
    assert shard.status_code == 400
    sha256 = build_file(content).sha256
    assert shard.json() == {
        "error": f"file {forged.file_hash}: its content hashes to sha256 {sha256}, the shard declares {claimed}"
    }
    _nothing_visible(alice, build_file(content), claimed)


def test_xorb_not_matching_its_hash_is_refused_with_400_and_leaves_nothing(alice):
    built = build_file(random_bytes(100_000, seed=34))
    other = build_file(random_bytes(100_000, seed=35))
    cas, auth = _cas(alice, "alice/tiny", "write")
    answer = httpx.post(f"{cas}/v1/xorbs/default/{built.xorb_hash}", content=other.xorb_body, headers=auth)
    assert answer.status_code == 400
    assert answer.json() == {"error": f"xorb content hashes to {other.xorb_hash}, not {built.xorb_hash}"}
    assert Xorb.objects.count() == 0
    garbage = httpx.post(f"{cas}/v1/xorbs/default/{built.xorb_hash}", content=b"\x07" * 100, headers=auth)
    assert garbage.status_code == 400
    assert garbage.json() == {"error": "chunk 0 at byte 0: unknown chunk record version 7"}
    # And the shard that relies on it then names a xorb that does not exist.
    shard = httpx.post(f"{cas}/v1/shards", content=shard_body(built.shard_file), headers=auth)
    assert (shard.status_code, shard.json()) == (
        400,
        {"error": f"file {built.file_hash} term 0: xorb {built.xorb_hash} is not stored"},
    )
    _nothing_visible(alice, built, built.sha256)


def test_reader_of_one_repository_cannot_reconstruct_a_file_of_a_private_other(alice, bob):
    alice.api.create_repo("secret", private=True)
    built = build_file(random_bytes(80_000, seed=36))
    xorb, shard = _upload(alice, "alice/secret", built)
    assert (xorb.status_code, shard.status_code) == (200, 200)
    url = f"/v1/reconstructions/{built.file_hash}"
    cas, auth = _cas(alice, "alice/secret", "read")
    assert httpx.get(cas + url, headers=auth | {"Range": "bytes=0-79999"}).status_code == 200
    for hub, repo_id in [(bob, "bob/pub"), (bob, "alice/tiny"), (alice, "alice/tiny")]:
        cas, auth = _cas(hub, repo_id, "read")
        refused = httpx.get(cas + url, headers=auth | {"Range": "bytes=0-79999"})
        assert (refused.status_code, refused.json()["error"]) == (404, f"File {built.file_hash} not found.")
    assert _token(bob, "alice/secret", "read").status_code == 404


def test_optional_routes_the_client_probes_answer_404(alice):
    cas, auth = _cas(alice, "alice/tiny", "write")
    digest = "ab" * 32
    assert httpx.get(f"{cas}/v1/chunks/default/{digest}", headers=auth).status_code == 404
    assert httpx.post(f"{cas}/v1/xorb-grants/default/{digest}", json={"length": 1}, headers=auth).status_code == 404
    assert httpx.post(f"{cas}/v2/shards", content=b"shard", headers=auth).status_code == 404
    assert httpx.get(f"{cas}/v2/reconstructions/{digest}", headers=auth).status_code == 404
    assert httpx.post(f"{alice.url}/v1/telemetry", json={"events": []}).status_code == 200
