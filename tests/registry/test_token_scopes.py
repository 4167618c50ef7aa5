"""Token scopes: a read token writes nothing, on any face (hub/scopes.py).

The sweep enumerates every route of the URL configuration and sends each unsafe method with a
read token, so a new endpoint is covered the day it is added; the regressions below replay the
writes a read token could make before the scope moved into one middleware.
"""

import json

import pytest
from django.test import Client

from community.models import Discussion
from community.services.discussions import discussion_create
from hub.models import ApiToken, User
from hub.scopes import READS_OVER_POST
from registry.models import Blob, Like, Repo
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_token, make_user
from tests.support.routes import all_routes

pytestmark = pytest.mark.django_db

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# The reads the protocols send as POSTs; changing this set is a decision to review.
READS_OVER_POST_VIEWS = {
    "registry.hf.repos.paths_info",
    "registry.hf.repos.validate_yaml",
    "registry.hf.lfs.batch",  # operation=download only
    "registry.githttp.views.upload_pack",
    "training_runner.inference.apis.GenerateApi",
    "training_runner.inference.apis.FillMaskApi",
    "training_runner.inference.apis.ClassifyApi",
    "training_runner.inference.apis.EmbedApi",
    "training_runner.inference.openai.CompletionsApi",
    "training_runner.inference.openai.ChatCompletionsApi",
}


def _client(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _marked(route) -> bool:
    view = route.view
    return any(
        getattr(target, READS_OVER_POST, None) is not None
        for target in (view, getattr(view, "view_class", None), getattr(view, "cls", None))
        if target is not None
    )


def test_the_reads_over_post_are_the_reviewed_few():
    marked = {route.label for route in all_routes() if _marked(route)}
    assert marked == READS_OVER_POST_VIEWS


@pytest.mark.parametrize("method", UNSAFE)
def test_every_unsafe_request_with_a_read_token_is_refused(alice, repo, method):
    client = _client(make_token(alice, role="read"))
    checked = 0
    for route in all_routes():
        if _marked(route):
            continue
        response = client.generic(method, route.path, b"{}", content_type="application/json")
        assert response.status_code == 403, (method, route.path, route.label, response.status_code)
        assert response.json() == {
            "error": "This token is read-only; create a token with the 'write' role.",
            "code": "read_only_token",
        }, route.path
        checked += 1
    assert checked == len(all_routes()) - len(READS_OVER_POST_VIEWS)
    # Nothing was written by any of them.
    assert Repo.objects.count() == 1
    assert ApiToken.objects.count() == 1
    assert Discussion.objects.count() == 0


def test_read_token_cannot_mint_or_revoke_tokens(alice):
    read = make_token(alice, role="read")
    other = ApiToken.objects.create(user=alice, name="other", role="write", token_hash="0" * 64, prefix="hub_0000")
    client = _client(read)
    minted = client.post("/api/v1/tokens", {"name": "escalate", "role": "write"}, content_type="application/json")
    assert minted.status_code == 403
    assert client.delete(f"/api/v1/tokens/{other.pk}").status_code == 403
    assert ApiToken.objects.filter(user=alice, revoked_at__isnull=True).count() == 2
    # Reading stays allowed.
    assert client.get("/api/v1/tokens").json()["count"] == 2


def test_read_token_cannot_create_repos_or_like(alice, repo):
    client = _client(make_token(alice, role="read"))
    body = {"name": "escalated", "type": "model"}
    assert client.post("/api/v1/repos", body, content_type="application/json").status_code == 403
    assert client.post("/api/repos/create", body, content_type="application/json").status_code == 403
    assert client.post("/api/v1/repos/models/alice/tiny/like").status_code == 403
    assert client.delete("/api/v1/repos/models/alice/tiny/like").status_code == 403
    assert Repo.objects.count() == 1
    assert Like.objects.count() == 0


def test_read_token_cannot_touch_discussions_or_merge(alice, repo):
    writer = make_user("wendy")
    org = make_org("acme", admin=alice, members={"wendy": "write"})
    org_repo = make_repo(alice, "shared", namespace=org.namespace)
    commit_files(org_repo, alice, {"a.txt": b"a\n"})
    discussion = discussion_create(repo=org_repo, user=writer, title="Hello", description="first", pull_request=False)
    client = _client(make_token(writer, role="read"))
    base = "/api/models/acme/shared/discussions"
    attempts = [
        (base, {"title": "Spam", "description": "x"}),
        (f"{base}/{discussion.num}/comment", {"comment": "x"}),
        (f"{base}/{discussion.num}/status", {"status": "closed"}),
        (f"{base}/{discussion.num}/title", {"title": "Renamed"}),
        (f"{base}/{discussion.num}/merge", {}),
    ]
    for url, body in attempts:
        assert client.post(url, body, content_type="application/json").status_code == 403, url
    discussion.refresh_from_db()
    assert (discussion.title, discussion.status, Discussion.objects.count()) == ("Hello", "open", 1)
    assert discussion.events.count() == 1


def test_lfs_batch_with_a_read_token_downloads_but_never_uploads(alice, repo):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(alice, role='read')}")
    oid = "a" * 64
    upload = {"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": 5}]}
    url = "/alice/tiny.git/info/lfs/objects/batch"
    refused = client.post(url, json.dumps(upload), content_type="application/vnd.git-lfs+json")
    assert refused.status_code == 403
    assert Blob.objects.filter(sha256=oid).count() == 0
    download = client.post(url, json.dumps({**upload, "operation": "download"}), content_type="application/json")
    assert download.status_code == 200
    assert download.json()["objects"][0]["error"]["code"] == 404


def test_reads_over_post_stay_open_to_read_tokens(alice, repo):
    client = _client(make_token(alice, role="read"))
    info = client.post("/api/models/alice/tiny/paths-info/main", {"paths": ["base.txt"]})
    assert info.status_code == 200
    assert [entry["path"] for entry in info.json()] == ["base.txt"]
    card = client.post("/api/validate-yaml", {"content": "---\nlicense: mit\n---\n"}, content_type="application/json")
    assert card.status_code == 200


def test_xet_write_token_needs_a_write_token(alice, repo):
    read = _client(make_token(alice, role="read"))
    response = read.get("/api/models/alice/tiny/xet-write-token/main")
    assert response.status_code == 403
    assert response.json()["code"] == "read_only_token"
    assert _client(make_token(alice)).get("/api/models/alice/tiny/xet-write-token/main").status_code == 200


def test_sessions_and_write_tokens_are_not_restricted(alice):
    write = _client(make_token(alice, role="write"))
    created = write.post("/api/v1/tokens", {"name": "ci", "role": "read"}, content_type="application/json")
    assert created.status_code == 201
    assert User.objects.count() == 1
