"""Upload bodies under the hub's ASGI application (uvicorn, as ``make serve`` runs it) reach their
views as they arrive (``common.asgi``): the stock client's LFS (single and multipart) and Xet
uploads and a git push work, the view reads the first bytes before the last ones are sent, and a
client that leaves mid-body leaves nothing staged."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from huggingface_hub import HfApi

from tests.support.factories import make_token, make_user
from tests.support.git import git_user, needs_git
from tests.support.hf import random_bytes
from tests.support.inference import hub_url  # noqa: F401  (the uvicorn server, once per session)

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def api(hub_url):  # noqa: F811
    token = make_token(make_user("alice"), role="write")
    api = HfApi(endpoint=hub_url, token=token)
    api.create_repo("alice/big")
    return api


def staged_bytes() -> int:
    staging = Path(settings.UPLOAD_TEMP_DIR)
    return sum(p.stat().st_size for p in staging.rglob("*") if p.is_file()) if staging.exists() else 0


@pytest.mark.parametrize("policy", ["lfs", "xet"])
def test_the_stock_client_uploads_through_the_streamed_views(api, settings, tmp_path, policy):
    settings.HUB_UPLOAD_POLICY = policy
    settings.HUB_MULTIPART_THRESHOLD_BYTES = 6 * 1024 * 1024  # the 12 MB file goes in parts
    files = {"small.bin": random_bytes(300_000, seed=1), "large.bin": random_bytes(12 * 1024 * 1024, seed=2)}
    for name, data in files.items():
        api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id="alice/big")
    for name, data in files.items():
        local = api.hf_hub_download("alice/big", name, cache_dir=tmp_path / policy)
        assert Path(local).read_bytes() == data


def test_the_view_reads_the_body_while_it_is_still_arriving(api, hub_url):  # noqa: F811
    """The second half is sent only once the first is in staging: a handler that waited for the
    whole body before running the view would never see it, and the request would time out."""
    first, second = random_bytes(2 * 1024 * 1024, seed=3), random_bytes(2 * 1024 * 1024, seed=4)
    data = first + second
    [action] = api_lfs_upload_actions(api, data)
    seen_streaming = threading.Event()

    def body():
        yield first
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and staged_bytes() < len(first):
            time.sleep(0.02)
        if staged_bytes() >= len(first):
            seen_streaming.set()
        yield second

    response = httpx.put(
        action["href"], content=body(), headers={**action.get("header", {}), "Content-Length": str(len(data))}
    )
    assert response.status_code == 200, response.text
    assert seen_streaming.is_set(), "the view did not start before the body was complete"
    assert staged_bytes() == 0


def test_a_client_that_leaves_mid_body_leaves_nothing_staged(api, hub_url):  # noqa: F811
    data = random_bytes(3 * 1024 * 1024, seed=5)
    [action] = api_lfs_upload_actions(api, data)

    def body():
        yield data[: 1024 * 1024]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and staged_bytes() < 1024 * 1024:
            time.sleep(0.02)
        raise ConnectionAbortedError("the client gives up")

    with pytest.raises(ConnectionAbortedError), httpx.Client() as client:
        client.put(action["href"], content=body(), headers={"Content-Length": str(len(data))})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and staged_bytes():
        time.sleep(0.05)
    assert staged_bytes() == 0
    # The server is still serving, and the object was not stored.
    assert httpx.get(f"{hub_url}/healthz").status_code == 200
    [again] = api_lfs_upload_actions(api, data)
    assert "href" in again


@needs_git
def test_a_git_push_streams_its_pack(api, hub_url, tmp_path):  # noqa: F811
    alice = git_user(tmp_path / "alice", username="alice", token=api.token)
    clone = tmp_path / "clone"
    alice.run("clone", "-q", f"{hub_url}/alice/big", str(clone))
    for number in range(20):
        (clone / f"file-{number}.txt").write_bytes(random_bytes(50_000, seed=number).hex().encode())
    alice.run("add", ".", cwd=clone)
    alice.run("commit", "-q", "-m", "Add files", cwd=clone)
    alice.run("push", "-q", "origin", "main", cwd=clone)
    head = alice.out("rev-parse", "HEAD", cwd=clone)
    assert api.list_repo_commits("alice/big")[0].commit_id == head


def api_lfs_upload_actions(api: HfApi, data: bytes) -> list[dict]:
    """The upload action the LFS batch API hands out for ``data`` (one object)."""
    import hashlib

    response = httpx.post(
        f"{api.endpoint}/alice/big.git/info/lfs/objects/batch",
        json={
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{"oid": hashlib.sha256(data).hexdigest(), "size": len(data)}],
            "hash_algo": "sha256",
        },
        headers={
            "Authorization": f"Bearer {api.token}",
            "Accept": "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json",
        },
    )
    assert response.status_code == 200, response.text
    return [obj["actions"]["upload"] for obj in response.json()["objects"]]
