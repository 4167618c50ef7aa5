"""Pull requests and discussions through the real client (HF_PROTOCOL.md §6 items 30–36)."""

from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

from community.models import Discussion
from tests.support.hf import hub_client, write_tree

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hub(live_server):
    hub = hub_client(live_server.url)
    hub.api.create_repo("tiny")
    hub.api.upload_file(path_or_fileobj=b"base", path_in_repo="base.txt", repo_id="alice/tiny")
    return hub


def test_upload_file_with_create_pr(hub, tmp_path):
    info = hub.api.upload_file(
        path_or_fileobj=b"proposed", path_in_repo="new.txt", repo_id="alice/tiny", create_pr=True
    )
    assert info.pr_revision == "refs/pr/1"
    assert info.pr_num == 1
    path = hf_hub_download(
        "alice/tiny", "new.txt", revision="refs/pr/1", endpoint=hub.url, token=hub.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == b"proposed"
    assert hub.api.file_exists("alice/tiny", "new.txt") is False
    assert Discussion.objects.get().status == "open"


def test_upload_folder_with_create_pr(hub, tmp_path):
    write_tree(tmp_path / "src", {"a.txt": b"a", "sub/b.txt": b"b"})
    info = hub.api.upload_folder(folder_path=tmp_path / "src", repo_id="alice/tiny", create_pr=True)
    assert info.pr_revision == "refs/pr/1"
    files = set(hub.api.list_repo_files("alice/tiny", revision="refs/pr/1"))
    assert files == {".gitattributes", "base.txt", "a.txt", "sub/b.txt"}


def test_pull_request_lifecycle(hub):
    pr = hub.api.create_pull_request("alice/tiny", title="Add docs", description="Adds the docs")
    assert pr.status == "draft"
    assert pr.events[0].type == "comment"
    assert pr.events[0].content == "Adds the docs"
    assert hub.api.model_info("alice/tiny", revision=pr.git_reference).sha == hub.api.model_info("alice/tiny").sha
    discussion = hub.api.create_discussion("alice/tiny", title=" A question ")
    numbers = [d.num for d in hub.api.get_repo_discussions("alice/tiny")]
    assert numbers == [discussion.num, pr.num] == [2, 1]
    assert [d.num for d in hub.api.get_repo_discussions("alice/tiny", discussion_type="pull_request")] == [1]
    assert [d.num for d in hub.api.get_repo_discussions("alice/tiny", discussion_status="open")] == [2, 1]
    comment = hub.api.comment_discussion("alice/tiny", discussion.num, "Hello")
    renamed = hub.api.rename_discussion("alice/tiny", discussion.num, "A better question")
    closed = hub.api.change_discussion_status("alice/tiny", discussion.num, "closed")
    details = hub.api.get_discussion_details("alice/tiny", discussion.num)
    assert {comment.id, renamed.id, closed.id} <= {event.id for event in details.events}
    assert (details.title, details.status) == ("A better question", "closed")
    assert details == hub.api.get_discussion_details("alice/tiny", discussion.num)

    hub.api.upload_file(
        path_or_fileobj=b"docs", path_in_repo="docs.md", repo_id="alice/tiny", revision=pr.git_reference
    )
    hub.api.change_discussion_status("alice/tiny", pr.num, "open")
    refs = hub.api.list_repo_refs("alice/tiny", include_pull_requests=True)
    assert [ref.ref for ref in refs.pull_requests] == ["refs/pr/1"]
    details = hub.api.get_discussion_details("alice/tiny", pr.num)
    assert "diff --git a/docs.md b/docs.md" in details.diff
    assert [e.type for e in details.events] == ["comment", "commit", "status-change"]
    hub.api.merge_pull_request("alice/tiny", pr.num)
    merged = hub.api.get_discussion_details("alice/tiny", pr.num)
    assert merged.status == "merged"
    assert merged.merge_commit_oid == hub.api.model_info("alice/tiny").sha
    assert hub.api.file_exists("alice/tiny", "docs.md") is True


def test_merge_creates_merge_commit_when_main_moved(hub):
    pr = hub.api.create_pull_request("alice/tiny", title="Change")
    hub.api.upload_file(path_or_fileobj=b"pr", path_in_repo="pr.txt", repo_id="alice/tiny", revision=pr.git_reference)
    hub.api.upload_file(path_or_fileobj=b"main", path_in_repo="main.txt", repo_id="alice/tiny")
    hub.api.change_discussion_status("alice/tiny", pr.num, "open")
    hub.api.merge_pull_request("alice/tiny", pr.num)
    assert set(hub.api.list_repo_files("alice/tiny")) == {".gitattributes", "base.txt", "pr.txt", "main.txt"}
    assert hub.api.list_repo_commits("alice/tiny")[0].title == "Merge pull request #1: Change"


def test_conflicting_pull_request_is_not_merged(hub):
    pr = hub.api.create_pull_request("alice/tiny", title="Conflict")
    hub.api.upload_file(
        path_or_fileobj=b"pr side", path_in_repo="base.txt", repo_id="alice/tiny", revision=pr.git_reference
    )
    hub.api.upload_file(path_or_fileobj=b"main side", path_in_repo="base.txt", repo_id="alice/tiny")
    hub.api.change_discussion_status("alice/tiny", pr.num, "open")
    assert hub.api.get_discussion_details("alice/tiny", pr.num).conflicting_files == ["base.txt"]
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.merge_pull_request("alice/tiny", pr.num)
    assert raised.value.response.status_code == 409
    assert hub.api.get_discussion_details("alice/tiny", pr.num).status == "open"


def test_others_may_open_and_push_to_their_pr_but_not_merge(hub, live_server):
    bob = hub_client(live_server.url, "bob")
    pr = bob.api.create_pull_request("alice/tiny", title="From bob")
    bob.api.upload_file(path_or_fileobj=b"bob", path_in_repo="bob.txt", repo_id="alice/tiny", revision=pr.git_reference)
    with pytest.raises(HfHubHTTPError) as raised:
        bob.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/tiny")
    assert raised.value.response.status_code == 403
    bob.api.change_discussion_status("alice/tiny", pr.num, "open")
    with pytest.raises(HfHubHTTPError) as raised:
        bob.api.merge_pull_request("alice/tiny", pr.num)
    assert raised.value.response.status_code == 403
    hub.api.merge_pull_request("alice/tiny", pr.num)
    assert hub.api.file_exists("alice/tiny", "bob.txt") is True


def test_comment_edit_and_hide(hub):
    discussion = hub.api.create_discussion("alice/tiny", title="Typo")
    comment = hub.api.comment_discussion("alice/tiny", discussion.num, "teh")
    edited = hub.api.edit_discussion_comment("alice/tiny", discussion.num, comment.id, "the")
    assert (edited.content, edited.edited) == ("the", True)
    hidden = hub.api.hide_discussion_comment("alice/tiny", discussion.num, comment.id)
    assert hidden.hidden is True
