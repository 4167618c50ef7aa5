"""The registry's REST API (/api/v1/repos…): create, list, settings, refs, commits, tree, likes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from registry.models import Like, Repo
from tests.support.factories import make_org, make_token, make_user

pytestmark = pytest.mark.django_db


def _client(user=None, token=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def alice():
    return make_user("alice")


def test_create_and_read_repo(alice):
    created = _client(alice).post("/api/v1/repos", {"type": "dataset", "name": "corpus"}, format="json")
    assert created.status_code == 201
    assert created.json()["id"] == "alice/corpus"
    assert created.json()["url"] == "/datasets/alice/corpus"
    detail = _client().get("/api/v1/repos/datasets/alice/corpus").json()
    assert (detail["type"], detail["private"], detail["likes"]) == ("dataset", False, 0)
    duplicate = _client(alice).post("/api/v1/repos", {"type": "dataset", "name": "CORPUS"}, format="json")
    assert duplicate.status_code == 409
    assert Repo.objects.count() == 1


@pytest.mark.parametrize("name", ["a--b", "a..b", "-x", "x.git", "with space", "x" * 97])
def test_bad_repo_names_are_refused(alice, name):
    response = _client(alice).post("/api/v1/repos", {"name": name}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["Invalid repository name."]}
    assert Repo.objects.count() == 0


def test_org_repo_needs_write_role(alice):
    reader = make_user("reader")
    make_org("acme", admin=alice, members={"reader": "read"})
    refused = _client(reader).post("/api/v1/repos", {"namespace": "acme", "name": "m"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"] == "You need the 'write' role in acme to create repositories there."
    assert _client(alice).post("/api/v1/repos", {"namespace": "acme", "name": "m"}, format="json").status_code == 201


def test_commit_files_through_multipart_and_read_back(alice):
    client = _client(alice)
    client.post("/api/v1/repos", {"name": "tiny"}, format="json")
    response = client.post(
        "/api/v1/repos/models/alice/tiny/commits/main",
        {
            "summary": "Add files",
            "notes/readme.txt": SimpleUploadedFile("readme.txt", b"hello"),
            "weights.bin": SimpleUploadedFile("weights.bin", b"\x00" * 100),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["title"] == "Add files"
    tree = client.get("/api/v1/repos/models/alice/tiny/tree/main?recursive=true").json()
    entries = {e["path"]: e for e in tree["entries"]}
    assert set(entries) == {".gitattributes", "notes", "notes/readme.txt", "weights.bin"}
    assert entries["weights.bin"]["lfs"] is True
    assert entries["notes/readme.txt"]["size"] == 5
    history = client.get("/api/v1/repos/models/alice/tiny/commits/main").json()
    assert [c["title"] for c in history["results"]] == ["Add files", "initial commit"]
    assert history["has_more"] is False
    deleted = client.post(
        "/api/v1/repos/models/alice/tiny/commits/main", {"summary": "rm", "delete": ["notes/"]}, format="multipart"
    )
    assert deleted.status_code == 201
    paths = {
        e["path"] for e in client.get("/api/v1/repos/models/alice/tiny/tree/main?recursive=true").json()["entries"]
    }
    assert paths == {".gitattributes", "weights.bin"}


@pytest.mark.parametrize("path", ["../escape.txt", "/abs.txt", "a//b.txt", "..\\win.txt"])
def test_traversal_paths_are_422_on_the_rest_api(alice, path):
    client = _client(alice)
    client.post("/api/v1/repos", {"name": "tiny"}, format="json")
    response = client.post(
        "/api/v1/repos/models/alice/tiny/commits/main",
        {"summary": "x", path: SimpleUploadedFile("x", b"x")},
        format="multipart",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_path"
    history = client.get("/api/v1/repos/models/alice/tiny/commits/main").json()["results"]
    assert len(history) == 1


def test_settings_refs_branches_tags_and_delete(alice):
    client = _client(alice)
    client.post("/api/v1/repos", {"name": "tiny"}, format="json")
    assert client.patch("/api/v1/repos/models/alice/tiny", {"private": True}, format="json").json()["private"] is True
    assert _client().get("/api/v1/repos/models/alice/tiny").status_code == 404
    assert client.post("/api/v1/repos/models/alice/tiny/branches/dev", {}, format="json").status_code == 201
    assert client.post("/api/v1/repos/models/alice/tiny/tags/v1", {"revision": "dev"}, format="json").status_code == 201
    refs = {r["name"] for r in client.get("/api/v1/repos/models/alice/tiny/refs").json()}
    assert refs == {"refs/heads/main", "refs/heads/dev", "refs/tags/v1"}
    assert client.delete("/api/v1/repos/models/alice/tiny/branches/main").status_code == 400
    assert client.delete("/api/v1/repos/models/alice/tiny/tags/v1").status_code == 204
    moved = client.post("/api/v1/repos/models/alice/tiny/move", {"namespace": "alice", "name": "small"}, format="json")
    assert moved.json()["id"] == "alice/small"
    assert client.delete("/api/v1/repos/models/alice/small").status_code == 204
    assert Repo.objects.count() == 0


def test_read_token_cannot_write_and_others_cannot_administer(alice):
    _client(alice).post("/api/v1/repos", {"name": "tiny"}, format="json")
    read_token = make_token(alice, role="read")
    refused = _client(token=read_token).patch("/api/v1/repos/models/alice/tiny", {"private": True}, format="json")
    assert refused.status_code == 403
    bob = _client(make_user("bob"))
    assert bob.delete("/api/v1/repos/models/alice/tiny").status_code == 403
    assert Repo.objects.get().private is False


def test_likes_are_counted_once_per_user(alice):
    _client(alice).post("/api/v1/repos", {"name": "tiny"}, format="json")
    bob = _client(make_user("bob"))
    assert bob.post("/api/v1/repos/models/alice/tiny/like").json() == {"likes": 1, "liked": True}
    assert bob.post("/api/v1/repos/models/alice/tiny/like").json() == {"likes": 1, "liked": True}
    assert _client(alice).post("/api/v1/repos/models/alice/tiny/like").json()["likes"] == 2
    assert bob.delete("/api/v1/repos/models/alice/tiny/like").json() == {"likes": 1, "liked": False}
    assert bob.delete("/api/v1/repos/models/alice/tiny/like").json() == {"likes": 1, "liked": False}
    assert Like.objects.count() == 1
    assert _client().post("/api/v1/repos/models/alice/tiny/like").status_code == 401


def test_openapi_schema_lists_registry_endpoints(client):
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in (
        "/api/v1/repos",
        "/api/v1/repos/{types}/{namespace}/{name}",
        "/api/v1/repos/{types}/{namespace}/{name}/commits/{revision}",
        "/api/v1/repos/{types}/{namespace}/{name}/like",
    ):
        assert path in paths
