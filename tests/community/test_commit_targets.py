"""Where a commit may land: branches and open pull requests only — never a tag, on any face."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from huggingface_hub.errors import BadRequestError
from rest_framework.test import APIClient

from registry.models import Ref
from registry.selectors.revisions import ref_target
from registry.services.refs import tag_create

pytestmark = pytest.mark.django_db

REFUSED_TAG = (
    "Invalid reference for a branch: refs/tags/v1 is a tag; commits land on branches (refs/heads/…) "
    "and open pull requests (refs/pr/N)."
)


@pytest.fixture
def repo(repo):
    """alice/tiny with the tag ``v1`` at its one commit."""
    tag_create(repo=repo, tag="v1", revision="main")
    return repo


def _refs(repo) -> dict[str, str]:
    return dict(Ref.objects.filter(repo=repo).values_list("name", "target_oid"))


@pytest.mark.parametrize("revision", ["refs%2Ftags%2Fv1", "v1"])
def test_rest_commit_to_a_tag_is_refused(alice, repo, revision):
    before = _refs(repo)
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(
        f"/api/v1/repos/models/alice/tiny/commits/{revision}",
        {"summary": "move it", "x.txt": SimpleUploadedFile("x.txt", b"x")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"error": REFUSED_TAG, "code": "invalid"}
    assert _refs(repo) == before


def test_rest_commit_to_another_kind_of_ref_is_refused(alice, repo):
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(
        "/api/v1/repos/models/alice/tiny/commits/refs%2Fconvert%2Fparquet",
        {"summary": "s", "x.txt": SimpleUploadedFile("x.txt", b"x")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Invalid reference for a branch: refs/convert/parquet is not a branch; commits land on branches "
        "(refs/heads/…) and open pull requests (refs/pr/N)."
    )


def test_edit_page_refuses_a_tag(alice, repo, client):
    client.force_login(alice)
    before = _refs(repo)
    response = client.post(
        "/alice/tiny/edit/v1/base.txt",
        {"content": "changed", "summary": "s", "description": "", "parent": before["refs/tags/v1"], "target": "commit"},
    )
    assert response.status_code == 400
    assert "&#x27;v1&#x27; is not a branch: changes are committed to branches." in response.content.decode()
    assert _refs(repo) == before
    assert client.get("/alice/tiny/upload/v1").status_code == 400


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("revision", ["refs/tags/v1", "v1"])
def test_stock_client_cannot_move_a_tag(hub, revision):
    hub.api.create_repo("tiny")
    hub.api.upload_file(path_or_fileobj=b"base", path_in_repo="base.txt", repo_id="alice/tiny")
    hub.api.create_tag("alice/tiny", tag="v1")
    tagged = hub.api.list_repo_refs("alice/tiny").tags[0].target_commit
    with pytest.raises(BadRequestError) as refused:
        hub.api.upload_file(path_or_fileobj=b"moved", path_in_repo="x.txt", repo_id="alice/tiny", revision=revision)
    assert REFUSED_TAG in str(refused.value)
    assert hub.api.list_repo_refs("alice/tiny").tags[0].target_commit == tagged
    with pytest.raises(BadRequestError):
        hub.api.delete_file("base.txt", repo_id="alice/tiny", revision=revision)
    assert hub.api.list_repo_refs("alice/tiny").tags[0].target_commit == tagged


def test_a_branch_commit_still_lands(alice, repo):
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(
        "/api/v1/repos/models/alice/tiny/commits/refs%2Fheads%2Fmain",
        {"summary": "add", "x.txt": SimpleUploadedFile("x.txt", b"x")},
        format="multipart",
    )
    assert response.status_code == 201
    assert ref_target(repo=repo, ref="refs/heads/main") == response.json()["id"]
