"""``community.services.changes``: one decision of where a change lands, through the REST API
(``/api/v1/…/commits/{revision}``), the stock client and the pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError
from rest_framework.test import APIClient

from community.choices import DiscussionStatus
from community.models import Discussion
from community.services.changes import Landing, change_target
from community.services.discussions import discussion_change_status, discussion_create
from registry.selectors.revisions import ref_target
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db


def _rest(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _post(user, revision: str, **fields):
    body = {"summary": "Add x", "x.txt": SimpleUploadedFile("x.txt", b"x"), **fields}
    return _rest(user).post(f"/api/v1/repos/models/alice/tiny/commits/{revision}", body, format="multipart")


def test_rest_create_pr_opens_a_pull_request_with_the_commit(bob, repo):
    main = ref_target(repo=repo, ref="refs/heads/main")
    response = _post(bob, "main", create_pr="true", description="Why")
    assert response.status_code == 201
    body = response.json()
    pr = Discussion.objects.get(repo=repo)
    assert (body["pull_request"], body["pull_request_url"]) == (1, "/alice/tiny/discussions/1")
    assert body["id"] == ref_target(repo=repo, ref="refs/pr/1")
    assert (pr.title, pr.status, pr.author, pr.is_pull_request) == ("Add x", DiscussionStatus.OPEN, bob, True)
    assert ref_target(repo=repo, ref="refs/heads/main") == main


def test_rest_commit_onto_an_open_pull_request_and_not_a_closed_one(alice, bob, repo):
    _post(bob, "main", create_pr="1")
    response = _post(bob, "refs%2Fpr%2F1", summary="More")
    assert response.status_code == 201
    assert response.json()["pull_request"] == 1
    assert response.json()["id"] == ref_target(repo=repo, ref="refs/pr/1")
    assert [e.type for e in Discussion.objects.get().events.all()] == ["commit", "commit"]
    discussion_change_status(discussion=Discussion.objects.get(), user=alice, status=DiscussionStatus.CLOSED)
    closed = _post(bob, "refs%2Fpr%2F1")
    assert closed.status_code == 409
    assert closed.json() == {"error": "Pull request #1 is closed; reopen it to add commits.", "code": "conflict"}


def test_rest_pull_request_refs_are_checked(alice, bob, repo):
    discussion_create(repo=repo, user=alice, title="Question", description="", pull_request=False)
    missing = _post(alice, "refs%2Fpr%2F7")
    assert (missing.status_code, missing.json()["error"]) == (404, "Invalid rev id: refs/pr/7")
    not_a_pr = _post(alice, "refs%2Fpr%2F1")
    assert (not_a_pr.status_code, not_a_pr.json()["error"]) == (404, "Invalid rev id: refs/pr/1")
    _post(alice, "main", create_pr="true")
    other = make_user("carol")
    refused = _post(other, "refs%2Fpr%2F2")
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only the author or people with write access can push to this pull request."
    pr_of_pr = _post(alice, "refs%2Fpr%2F2", create_pr="true")
    assert pr_of_pr.status_code == 400
    assert pr_of_pr.json()["error"] == (
        "refs/pr/2 is a pull request: commit to it, or open a pull request against a branch."
    )


def test_rest_readers_must_ask_for_a_pull_request(bob, repo):
    refused = _post(bob, "main")
    assert refused.status_code == 403
    assert refused.json()["error"] == (
        "You cannot write to alice/tiny: open a pull request with your change instead (create_pr)."
    )
    bad = _post(bob, "main", create_pr="perhaps")
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"create_pr": ["must be true or false."]}
    assert Discussion.objects.count() == 0


def test_rest_missing_branch_is_revision_not_found(alice, repo):
    response = _post(alice, "nope")
    assert (response.status_code, response.json()["code"]) == (404, "revision_not_found")


def test_change_target_decides_for_every_face(alice, bob, repo):
    assert change_target(repo=repo, user=alice, revision="main").landing == Landing.BRANCH
    assert change_target(repo=repo, user=alice, revision="refs/heads/main", create_pr=None).landing == Landing.BRANCH
    assert change_target(repo=repo, user=alice, revision="main", create_pr=True).landing == Landing.NEW_PULL_REQUEST
    readers = change_target(repo=repo, user=bob, revision="main", create_pr=None)
    assert (readers.landing, readers.branch, readers.can_commit) == (Landing.NEW_PULL_REQUEST, "main", False)


def test_edit_page_of_a_reader_opens_a_pull_request(bob, repo, client):
    client.force_login(bob)
    parent = ref_target(repo=repo, ref="refs/heads/main")
    response = client.post(
        "/alice/tiny/edit/main/base.txt",
        {"content": "changed", "summary": "Fix", "description": "", "parent": parent, "target": "commit"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/alice/tiny/discussions/1"
    assert ref_target(repo=repo, ref="refs/heads/main") == parent
    assert Discussion.objects.get().author == bob


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_stock_client_commits_land_only_on_open_pull_requests(hub, bob_hub):
    hub.api.create_repo("tiny")
    hub.api.upload_file(path_or_fileobj=b"base", path_in_repo="base.txt", repo_id="alice/tiny")
    info = bob_hub.api.upload_file(path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="alice/tiny", create_pr=True)
    assert info.pr_num == 1
    bob_hub.api.upload_file(path_or_fileobj=b"c", path_in_repo="c.txt", repo_id="alice/tiny", revision="refs/pr/1")
    assert set(hub.api.list_repo_files("alice/tiny", revision="refs/pr/1")) == {
        ".gitattributes", "base.txt", "b.txt", "c.txt"
    }  # fmt: skip
    hub.api.change_discussion_status("alice/tiny", 1, "closed")
    with pytest.raises(HfHubHTTPError) as closed:
        bob_hub.api.upload_file(path_or_fileobj=b"d", path_in_repo="d.txt", repo_id="alice/tiny", revision="refs/pr/1")
    assert closed.value.response.status_code == 409
    assert "Pull request #1 is closed; reopen it to add commits." in str(closed.value)
    with pytest.raises(RevisionNotFoundError):
        hub.api.upload_file(path_or_fileobj=b"e", path_in_repo="e.txt", repo_id="alice/tiny", revision="refs/pr/9")
