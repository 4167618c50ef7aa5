"""A disabled repository serves no file on any path — resolve, raw pages, the LFS batch API and
its signed object URLs, Xet read tokens and CAS reconstructions, git smart HTTP — with a 451 in the
one error shape naming the moderation action; enabled again, it serves them all again."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.test import Client

from community.moderation.selectors import repo_target
from community.moderation.services import action_take
from tests.community.moderation.helpers import make_moderator
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_token, make_user

pytestmark = pytest.mark.django_db

WEIGHTS = b"weights that moderators disable" * 10
OID = hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def world(settings):
    settings.HUB_LFS_THRESHOLD_BYTES = 100  # weights.bin is an LFS file
    alice, moderator = make_user("alice"), make_moderator()
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": b"# Tiny\n", "weights.bin": WEIGHTS})
    token = make_token(alice)
    basic = "Basic " + base64.b64encode(f"alice:{token}".encode()).decode()
    return repo, moderator, Client(HTTP_AUTHORIZATION=f"Bearer {token}"), Client(HTTP_AUTHORIZATION=basic)


def _lfs_batch(git_client):
    body = {"operation": "download", "transfers": ["basic"], "objects": [{"oid": OID, "size": len(WEIGHTS)}]}
    return git_client.post("/alice/tiny.git/info/lfs/objects/batch", body, content_type="application/vnd.git-lfs+json")


def _xet_token(bearer):
    return bearer.get("/api/models/alice/tiny/xet-read-token/main")


def _reconstruction(token: str):
    return Client().get(f"/xet/v1/reconstructions/{'ab' * 32}", HTTP_AUTHORIZATION=f"Bearer {token}")


def _assert_disabled(response, action_id: int):
    assert response.status_code == 451
    body = response.json()
    assert (body["code"], body["moderation"]) == (
        "repo_disabled", {"action": action_id, "reason": "malware", "log": f"/moderation/log#action-{action_id}"},
    )  # fmt: skip
    assert body["error"].startswith(
        f"Access to this resource is disabled: alice/tiny was disabled by moderation action #{action_id} on "
    )
    assert (response["X-Error-Code"], response["X-Error-Message"]) == (
        "DisabledRepo",
        "Access to this resource is disabled.",
    )


def _assert_git_disabled(response, action_id: int):
    """git shows a text body to the person cloning (``registry.githttp``)."""
    assert (response.status_code, response["Content-Type"]) == (451, "text/plain; charset=utf-8")
    assert f"alice/tiny was disabled by moderation action #{action_id} on " in response.content.decode()


def test_every_download_path_refuses_a_disabled_repository_until_it_is_enabled(world):
    _repo, moderator, bearer, git_client = world
    # Before: every path serves, and the URLs and tokens handed out now are kept for later.
    assert b"".join(bearer.get("/alice/tiny/resolve/main/weights.bin").streaming_content) == WEIGHTS
    batch = _lfs_batch(git_client)
    assert batch.status_code == 200
    href = batch.json()["objects"][0]["actions"]["download"]["href"]
    object_path = href.split("testserver", 1)[1]
    assert b"".join(bearer.get(object_path).streaming_content) == WEIGHTS
    xet = _xet_token(bearer)
    assert xet.status_code == 200
    cas_token = xet.json()["accessToken"]
    assert _reconstruction(cas_token).status_code == 404  # the token is good; no such file
    refs = git_client.get("/alice/tiny.git/info/refs?service=git-upload-pack")
    assert refs.status_code == 200

    target = repo_target(user=moderator, repo_type="model", namespace="alice", name="tiny")
    action = action_take(moderator=moderator, kind="disable_repo", target=target, reason="malware", note="Confirmed.")

    _assert_disabled(bearer.get("/alice/tiny/resolve/main/weights.bin"), action.pk)
    _assert_disabled(bearer.get("/alice/tiny/resolve/main/README.md"), action.pk)
    _assert_disabled(_lfs_batch(git_client), action.pk)
    _assert_disabled(bearer.get(object_path), action.pk)
    _assert_disabled(_xet_token(bearer), action.pk)
    _assert_disabled(_reconstruction(cas_token), action.pk)
    _assert_git_disabled(git_client.get("/alice/tiny.git/info/refs?service=git-upload-pack"), action.pk)
    _assert_git_disabled(
        git_client.post(
            "/alice/tiny.git/git-upload-pack", b"0000", content_type="application/x-git-upload-pack-request"
        ),
        action.pk,
    )
    raw = bearer.get("/alice/tiny/raw/main/weights.bin")
    assert raw.status_code == 451
    page = bearer.get("/alice/tiny")
    assert page.status_code == 200
    assert f'href="/moderation/log#action-{action.pk}"' in page.content.decode()
    assert "was disabled by the moderators" in page.content.decode()

    action_take(moderator=moderator, kind="enable_repo", target=target, reason="other", note="Cleaned.")

    assert b"".join(bearer.get("/alice/tiny/resolve/main/weights.bin").streaming_content) == WEIGHTS
    assert _lfs_batch(git_client).status_code == 200
    assert b"".join(bearer.get(object_path).streaming_content) == WEIGHTS
    assert _xet_token(bearer).status_code == 200
    assert _reconstruction(cas_token).status_code == 404
    assert git_client.get("/alice/tiny.git/info/refs?service=git-upload-pack").status_code == 200
    assert bearer.get("/alice/tiny/raw/main/weights.bin").status_code == 200
