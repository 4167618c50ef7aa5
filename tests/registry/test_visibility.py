"""A private repository is invisible (404, RepoNotFound) to outsiders on every surface."""

import hashlib

import httpx
import pytest

from registry.choices import RepoType
from registry.services.commits import AddFile, commit_create
from registry.services.repos import repo_create
from registry.storage import stage_bytes
from tests.support.factories import make_org, make_token, make_user

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SECRET = b"private weights"


@pytest.fixture
def private_repo(live_server):
    owner = make_user("owner")
    make_user("stranger")
    org = make_org("acme", admin=owner, members={"stranger": "read"})
    assert org.name == "acme"
    repo = repo_create(user=owner, namespace=owner.namespace, name="secret", repo_type=RepoType.MODEL, private=True)
    commit_create(
        repo=repo, user=owner, ref="refs/heads/main", operations=[AddFile(path="w.txt", staged=stage_bytes(SECRET))],
        summary="add",
    )  # fmt: skip
    return {"url": live_server.url, "owner": make_token(owner), "stranger": make_token(make_user("outsider"))}


# (method, path, body) for every endpoint that names the repository.
SURFACES = [
    ("GET", "/api/models/owner/secret", None),
    ("GET", "/api/models/owner/secret/revision/main", None),
    ("GET", "/api/models/owner/secret/tree/main", None),
    ("GET", "/api/models/owner/secret/refs", None),
    ("GET", "/api/models/owner/secret/commits/main", None),
    ("POST", "/api/models/owner/secret/paths-info/main", {"paths": ["w.txt"]}),
    ("POST", "/api/models/owner/secret/preupload/main", {"files": [{"path": "x", "size": 1, "sample": ""}]}),
    ("POST", "/api/models/owner/secret/branch/dev", {}),
    ("POST", "/api/models/owner/secret/tag/main", {"tag": "v1"}),
    ("PUT", "/api/models/owner/secret/settings", {"visibility": "public"}),
    ("POST", "/api/models/owner/secret/commit/main", None),
    ("HEAD", "/owner/secret/resolve/main/w.txt", None),
    ("GET", "/owner/secret/resolve/main/w.txt", None),
    ("GET", "/api/v1/repos/models/owner/secret", None),
    ("GET", "/api/v1/repos/models/owner/secret/tree/main", None),
    ("GET", "/api/v1/repos/models/owner/secret/commits/main", None),
]


@pytest.mark.parametrize("who", ["anonymous", "stranger"])
@pytest.mark.parametrize(("method", "path", "body"), SURFACES)
def test_private_repo_is_404_to_outsiders(private_repo, who, method, path, body):
    headers = {} if who == "anonymous" else {"Authorization": f"Bearer {private_repo['stranger']}"}
    response = httpx.request(method, private_repo["url"] + path, json=body, headers=headers)
    assert response.status_code == 404, response.text
    if not path.startswith("/api/v1/"):
        assert response.headers["X-Error-Code"] == "RepoNotFound"
    if method != "HEAD":
        assert b"private weights" not in response.content


# Surfaces of git and git-lfs: they ask anonymous callers to log in (so the credential helper runs),
# for a private repository exactly as for a missing one.
GIT_SURFACES = [
    ("POST", "/{repo}.git/info/lfs/objects/batch", {"operation": "download", "objects": []}),
    ("GET", "/{repo}.git/info/refs?service=git-upload-pack", None),
    ("GET", "/{repo}/info/refs?service=git-receive-pack", None),
]


@pytest.mark.parametrize(("method", "path", "body"), GIT_SURFACES)
def test_git_surfaces_hide_private_repos(private_repo, method, path, body):
    stranger = {"Authorization": f"Bearer {private_repo['stranger']}"}
    for repo in ("owner/secret", "owner/missing"):
        url = private_repo["url"] + path.format(repo=repo)
        anonymous = httpx.request(method, url, json=body)
        assert anonymous.status_code == 401, anonymous.text
        assert "Basic" in (anonymous.headers.get("WWW-Authenticate") or anonymous.headers["LFS-Authenticate"])
        assert httpx.request(method, url, json=body, headers=stranger).status_code == 404
        assert b"private weights" not in anonymous.content


@pytest.mark.parametrize(
    "query", ["/api/models", "/api/models?search=secret", "/api/models?author=owner", "/api/v1/repos"]
)
def test_private_repo_absent_from_listings_and_search(private_repo, query):
    anonymous = httpx.get(private_repo["url"] + query).text
    stranger = httpx.get(private_repo["url"] + query, headers={"Authorization": f"Bearer {private_repo['stranger']}"})
    owner = httpx.get(private_repo["url"] + query, headers={"Authorization": f"Bearer {private_repo['owner']}"})
    assert "owner/secret" not in anonymous
    assert "owner/secret" not in stranger.text
    assert "owner/secret" in owner.text


def test_owner_and_org_reader_see_private_repo(private_repo):
    owner = httpx.get(
        private_repo["url"] + "/owner/secret/resolve/main/w.txt",
        headers={"Authorization": f"Bearer {private_repo['owner']}"},
    )
    assert owner.status_code == 200
    assert owner.content == SECRET
    assert owner.headers["ETag"] == f'"{hashlib.sha1(b"blob 15" + bytes([0]) + SECRET).hexdigest()}"'


def test_private_org_repo_visible_to_members_only(live_server):
    admin = make_user("boss")
    reader = make_user("reader")
    make_user("nobody")
    org = make_org("corp", admin=admin, members={"reader": "read"})
    repo_create(user=admin, namespace=org.namespace, name="internal", repo_type=RepoType.DATASET, private=True)
    url = live_server.url + "/api/datasets/corp/internal"
    assert httpx.get(url, headers={"Authorization": f"Bearer {make_token(reader)}"}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {make_token(make_user('other'))}"}).status_code == 404
    # A reader cannot write.
    response = httpx.post(
        live_server.url + "/api/datasets/corp/internal/branch/dev",
        json={},
        headers={"Authorization": f"Bearer {make_token(reader)}"},
    )
    assert response.status_code == 403
