"""resolve/: headers the client relies on, Range, conditional requests, download counting."""

import hashlib

import pytest
from django.test import Client

from registry.choices import RepoType
from registry.models import DownloadDay, Repo
from registry.services.commits import AddFile, commit_create
from registry.services.repos import repo_create, repo_update_settings
from registry.storage import stage_bytes
from tests.support.factories import make_token, make_user

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 4  # 1024 bytes
BIG = b"\x01" * 11_000_000  # over the LFS threshold: stored as an LFS object


@pytest.fixture
def repo():
    user = make_user("alice")
    repo = repo_create(user=user, namespace=user.namespace, name="tiny", repo_type=RepoType.MODEL)
    operations = [
        AddFile(path="dir/data.dat", staged=stage_bytes(DATA)),
        AddFile(path="big.bin", staged=stage_bytes(BIG)),
    ]
    commit_create(repo=repo, user=user, ref="refs/heads/main", summary="add", operations=operations)
    return repo


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_head_regular_file(repo, client):
    response = client.head("/alice/tiny/resolve/main/dir/data.dat")
    assert response.status_code == 200
    assert response["Content-Length"] == "1024"
    assert response["ETag"] == f'"{git_sha1(DATA)}"'
    assert response["X-Repo-Commit"] == Repo.objects.get().refs.get().target_oid
    assert response["Accept-Ranges"] == "bytes"
    assert "X-Linked-Etag" not in response
    assert response.content == b""


def test_head_and_get_lfs_file(repo, client):
    sha256 = hashlib.sha256(BIG).hexdigest()
    head = client.head("/alice/tiny/resolve/main/big.bin")
    assert head["X-Linked-Etag"] == f'"{sha256}"'
    assert head["X-Linked-Size"] == str(len(BIG))
    assert head["Content-Length"] == str(len(BIG))
    get = client.get("/alice/tiny/resolve/main/big.bin")
    assert b"".join(get.streaming_content) == BIG


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-9", 206, DATA[:10], "bytes 0-9/1024"),
        ("bytes=1000-", 206, DATA[1000:], "bytes 1000-1023/1024"),
        ("bytes=-4", 206, DATA[-4:], "bytes 1020-1023/1024"),
        ("bytes=1020-5000", 206, DATA[1020:], "bytes 1020-1023/1024"),
        ("bytes=0-0,5-6", 200, DATA, None),
    ],
)
def test_range_requests(repo, client, header, status, body, content_range):
    response = client.get("/alice/tiny/resolve/main/dir/data.dat", HTTP_RANGE=header)
    assert response.status_code == status
    assert b"".join(response.streaming_content) == body
    assert response["Content-Length"] == str(len(body))
    assert response.get("Content-Range") == content_range


def test_unsatisfiable_range(repo, client):
    response = client.get("/alice/tiny/resolve/main/dir/data.dat", HTTP_RANGE="bytes=2000-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */1024"


def test_if_none_match(repo, client):
    response = client.get("/alice/tiny/resolve/main/dir/data.dat", HTTP_IF_NONE_MATCH=f'"{git_sha1(DATA)}"')
    assert response.status_code == 304


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/alice/tiny/resolve/main/missing.txt", 404, "EntryNotFound"),
        ("/alice/tiny/resolve/nope/dir/data.dat", 404, "RevisionNotFound"),
        ("/alice/missing/resolve/main/a.txt", 404, "RepoNotFound"),
        ("/alice/tiny/resolve/main/dir", 404, "EntryNotFound"),
    ],
)
def test_missing_things_carry_the_error_code(repo, client, path, status, code):
    response = client.head(path)
    assert response.status_code == status
    assert response["X-Error-Code"] == code
    if code == "EntryNotFound":
        assert response["X-Repo-Commit"] == repo.refs.get().target_oid


def test_resolve_by_commit_tag_and_short_sha(repo, client):
    oid = repo.refs.get().target_oid
    for revision in (oid, oid[:7]):
        assert client.head(f"/alice/tiny/resolve/{revision}/dir/data.dat").status_code == 200


def test_downloads_counted_once_per_client_window(repo, client):
    for _ in range(3):
        client.get("/alice/tiny/resolve/main/dir/data.dat", HTTP_X_HF_DOWNLOAD_COUNTER="1")
    client.get("/alice/tiny/resolve/main/big.bin")  # no counter header: not a download
    repo.refresh_from_db()
    assert (repo.downloads, repo.downloads_all_time) == (1, 1)
    assert DownloadDay.objects.get(repo=repo).count == 1
    client.get("/alice/tiny/resolve/main/dir/data.dat", HTTP_X_HF_DOWNLOAD_COUNTER="1", REMOTE_ADDR="10.1.1.1")
    repo.refresh_from_db()
    assert repo.downloads_all_time == 2


def test_gated_repo_files_need_access(repo, client):
    repo_update_settings(repo=repo, gated="manual")
    outsider = make_token(make_user("bob"))
    response = client.head("/alice/tiny/resolve/main/dir/data.dat", HTTP_AUTHORIZATION=f"Bearer {outsider}")
    assert response.status_code == 403
    assert response["X-Error-Code"] == "GatedRepo"
    info = client.get("/api/models/alice/tiny", HTTP_AUTHORIZATION=f"Bearer {outsider}")
    assert info.status_code == 200
    assert info.json()["gated"] == "manual"
    owner = make_token(Repo.objects.get().created_by)
    assert (
        Client().head("/alice/tiny/resolve/main/dir/data.dat", HTTP_AUTHORIZATION=f"Bearer {owner}").status_code == 200
    )


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("page.html", "text/plain; charset=utf-8"), ("logo.svg", "image/svg+xml"),
     ("app.js", "text/plain; charset=utf-8"), ("notes.md", "text/plain; charset=utf-8"),
     ("config.json", "application/json; charset=utf-8"), ("photo.png", "image/png"),
     ("data.parquet", "application/octet-stream")],
)  # fmt: skip
def test_files_never_run_in_the_hubs_origin(repo, client, path, content_type):
    user = Repo.objects.get().created_by
    commit_create(
        repo=repo, user=user, ref="refs/heads/main", summary="active content",
        operations=[AddFile(path=path, staged=stage_bytes(b"<script>alert(1)</script>"))],
    )  # fmt: skip
    response = client.get(f"/alice/tiny/resolve/main/{path}")
    assert response["Content-Type"] == content_type
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
