"""The stock huggingface_hub client against a live hub, for calls and answers that must match the
Hub's own (HF_PROTOCOL.md §7): squash, auth checks, LFS file management, ids without a namespace,
.gitignore on upload, folder deletes, empty files, formatted history, renames, tags and the
wording clients match on."""

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from registry.models import Blob, RepoRedirect
from tests.support.hf import hub_client, write_tree

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _titles(hub, repo_id, revision="main"):
    return [commit.title for commit in hub.api.list_repo_commits(repo_id, revision=revision)]


def test_super_squash_history(hub, tiny):
    hub.api.upload_file(path_or_fileobj=b"content", path_in_repo="file.txt", repo_id=tiny)
    hub.api.upload_file(path_or_fileobj=b"lfs", path_in_repo="lfs.bin", repo_id=tiny)
    hub.api.upload_file(path_or_fileobj=b"another", path_in_repo="file.txt", repo_id=tiny)
    hub.api.create_branch(tiny, branch="v0.1")
    hub.api.upload_file(path_or_fileobj=b"foo", path_in_repo="file.txt", repo_id=tiny, revision="v0.1")
    files_before = {f.path: f.blob_id for f in hub.api.list_repo_tree(tiny, recursive=True)}

    hub.api.super_squash_history(repo_id=tiny)

    assert _titles(hub, tiny) == ["Super-squash branch 'main' using huggingface_hub"]
    assert {f.path: f.blob_id for f in hub.api.list_repo_tree(tiny, recursive=True)} == files_before
    assert len(_titles(hub, tiny, "v0.1")) == 5
    hub.api.super_squash_history(repo_id=tiny, branch="v0.1", commit_message="one commit")
    assert _titles(hub, tiny, "v0.1") == ["one commit"]
    hub.api.create_tag(tiny, tag="v1")
    with pytest.raises(BadRequestError):
        hub.api.super_squash_history(repo_id=tiny, branch="v1")
    with pytest.raises(RevisionNotFoundError):
        hub.api.super_squash_history(repo_id=tiny, branch="missing")


def test_super_squash_history_of_a_pull_request(hub, tiny):
    pr = hub.api.create_pull_request(tiny, title="squash me")
    for data in (b"one", b"two"):
        hub.api.upload_file(path_or_fileobj=data, path_in_repo="f.txt", repo_id=tiny, revision=pr.git_reference)
    hub.api.super_squash_history(repo_id=tiny, branch=pr.git_reference)
    assert len(hub.api.list_repo_commits(tiny, revision=pr.git_reference)) == 1


def test_auth_check(hub, tiny, live_server):
    hub.api.auth_check(tiny)
    hub.api.auth_check(tiny, write=True)
    with pytest.raises(RepositoryNotFoundError):
        hub.api.auth_check("alice/missing")
    bob = hub_client(live_server.url, "bob")
    bob.api.auth_check(tiny)
    with pytest.raises(HfHubHTTPError) as raised:
        bob.api.auth_check(tiny, write=True)
    assert raised.value.response.status_code == 403
    hub.api.update_repo_settings(tiny, gated="auto")
    hub.api.auth_check(tiny)
    with pytest.raises(GatedRepoError):
        bob.api.auth_check(tiny)
    hub.api.update_repo_settings(tiny, gated=False, private=True)
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url).auth_check(tiny)
    with pytest.raises(RepositoryNotFoundError):
        bob.api.auth_check(tiny)


def test_list_and_permanently_delete_lfs_files(hub, tiny):
    hub.api.upload_file(path_or_fileobj=b"LFS content", path_in_repo="lfs_file.bin", repo_id=tiny)
    hub.api.upload_file(path_or_fileobj=b"TXT content", path_in_repo="txt_file.txt", repo_id=tiny)
    hub.api.upload_file(path_or_fileobj=b"LFS content 2", path_in_repo="dir/lfs_file_2.bin", repo_id=tiny)
    hub.api.create_branch(tiny, branch="my-branch")
    hub.api.upload_file(
        path_or_fileobj=b"LFS content branch", path_in_repo="lfs_file_branch.bin", repo_id=tiny, revision="my-branch"
    )
    lfs_files = list(hub.api.list_lfs_files(tiny))
    assert {f.filename for f in lfs_files} == {"lfs_file.bin", "dir/lfs_file_2.bin", "lfs_file_branch.bin"}
    by_name = {f.filename: f for f in lfs_files}
    assert by_name["lfs_file.bin"].file_oid == hashlib.sha256(b"LFS content").hexdigest()
    assert by_name["lfs_file.bin"].size == len(b"LFS content")
    assert by_name["lfs_file.bin"].pushed_at.tzinfo is not None
    assert {f.filename for f in lfs_files if f.ref in ("main", "refs/heads/main")} == {
        "lfs_file.bin",
        "dir/lfs_file_2.bin",
    }
    with pytest.raises(HfHubHTTPError) as raised:
        HfApi(endpoint=hub.url).list_lfs_files(tiny).__next__()
    assert raised.value.response.status_code == 401

    on_main = [f for f in lfs_files if f.ref in ("main", "refs/heads/main")]
    hub.api.permanently_delete_lfs_files(tiny, on_main)

    assert [f.filename for f in hub.api.list_lfs_files(tiny)] == ["lfs_file_branch.bin"]
    assert set(hub.api.list_repo_files(tiny)) == {".gitattributes", "txt_file.txt"}
    assert set(hub.api.list_repo_files(tiny, revision="my-branch")) == {
        ".gitattributes",
        "txt_file.txt",
        "lfs_file_branch.bin",
    }
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(tiny, "lfs_file.bin", endpoint=hub.url, token=hub.token)
    assert not Blob.objects.filter(sha256__in=[f.file_oid for f in on_main]).exists()
    assert Blob.objects.filter(sha256=by_name["lfs_file_branch.bin"].file_oid).exists()
    # History is rewritten: no commit of any branch still names the deleted content.
    for commit in hub.api.list_repo_commits(tiny, revision="my-branch"):
        assert "lfs_file.bin" not in hub.api.list_repo_files(tiny, revision=commit.commit_id)
    assert len(_titles(hub, tiny)) == 4


def test_ids_without_namespace_are_missing_repositories(hub, tmp_path):
    with pytest.raises(RepositoryNotFoundError):
        hub.api.model_info("x", revision="main")
    with pytest.raises(RepositoryNotFoundError):
        hub.api.list_repo_commits("x")
    with pytest.raises(RepositoryNotFoundError):
        hub.api.list_repo_refs("x")
    with pytest.raises(RepositoryNotFoundError):
        hub.api.dataset_info("x", revision="main")
    with pytest.raises(RepositoryNotFoundError):
        hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id="x")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("x", "config.json", endpoint=hub.url, token=hub.token, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("x", "data.csv", repo_type="dataset", endpoint=hub.url, cache_dir=tmp_path)
    assert hub.api.file_exists("x", "config.json") is False
    # A repository named like a sub-route keeps all its routes (the Xet upload token's included).
    hub.api.create_repo("tree")
    hub.api.upload_file(path_or_fileobj=b"\0weights", path_in_repo="w.bin", repo_id="alice/tree")
    assert hub.api.model_info("alice/tree", revision="main", files_metadata=True).siblings[1].lfs.size == 8


def _folder_with_nested(tmp_path):
    source = tmp_path / "source"
    write_tree(source, {"file.txt": b"top", "nested/file.bin": b"nested", "nested/deeper/x.txt": b"x"})
    return source


def test_upload_folder_skips_paths_the_repository_gitignore_excludes(hub, tiny, tmp_path):
    hub.api.upload_file(path_or_fileobj=b"nested/*\n", path_in_repo=".gitignore", repo_id=tiny)
    hub.api.upload_folder(folder_path=_folder_with_nested(tmp_path), repo_id=tiny)
    assert set(hub.api.list_repo_files(tiny)) == {".gitattributes", ".gitignore", "file.txt"}


def test_upload_folder_skips_paths_the_gitignore_of_the_commit_excludes(hub, tiny, tmp_path):
    source = _folder_with_nested(tmp_path)
    (source / ".gitignore").write_text("nested/\n*.txt\n!file.txt\n")
    hub.api.upload_folder(folder_path=source, repo_id=tiny)
    assert set(hub.api.list_repo_files(tiny)) == {".gitattributes", ".gitignore", "file.txt"}


def test_delete_folder_named_without_trailing_slash(hub, tiny):
    hub.api.create_commit(
        tiny,
        operations=[
            CommitOperationAdd("1/file_1.md", b"data"),
            CommitOperationAdd("1/file_2.md", b"data"),
            CommitOperationAdd("2/file_3.md", b"data"),
        ],
        commit_message="init",
    )
    hub.api.create_commit(tiny, operations=[CommitOperationDelete(path_in_repo="1")], commit_message="drop 1")
    assert set(hub.api.list_repo_files(tiny)) == {".gitattributes", "2/file_3.md"}


def test_empty_file_tracked_by_gitattributes_stays_regular(hub, tiny):
    hub.api.upload_file(path_or_fileobj=b"", path_in_repo="empty.pkl", repo_id=tiny)
    siblings = {s.rfilename: s for s in hub.api.model_info(tiny, files_metadata=True).siblings}
    assert siblings["empty.pkl"].size == 0
    assert siblings["empty.pkl"].lfs is None
    assert siblings["empty.pkl"].blob_id == hashlib.sha1(b"blob 0\0").hexdigest()


def test_list_repo_commits_formatted(hub, tiny):
    hub.api.upload_file(
        path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny, commit_message="Add <a>",
        commit_description="first line\nsecond & last",
    )  # fmt: skip
    plain = hub.api.list_repo_commits(tiny)
    assert all(c.formatted_title is None and c.formatted_message is None for c in plain)
    latest = hub.api.list_repo_commits(tiny, formatted=True)[0]
    assert latest.formatted_title == "Add &lt;a&gt;"
    assert "second &amp; last" in latest.formatted_message
    assert "<br>" in latest.formatted_message


def test_renamed_repository_redirects_from_its_former_id(hub, tiny, tmp_path, live_server):
    first = hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny)
    hub.api.move_repo(from_id=tiny, to_id="alice/renamed")

    assert hub.api.model_info(tiny).id == "alice/renamed"
    assert hub.api.repo_exists(tiny) is True
    assert hub.api.list_repo_files(tiny) == [".gitattributes", "a.txt"]
    assert hub.api.list_repo_commits(tiny)[0].commit_id == first.oid
    path = hf_hub_download(tiny, "a.txt", endpoint=hub.url, token=hub.token, cache_dir=tmp_path)
    assert Path(path).read_bytes() == b"hi"
    # Writes keep their method and body through the 307.
    hub.api.upload_file(path_or_fileobj=b"more", path_in_repo="b.txt", repo_id=tiny)
    hub.api.update_repo_settings(tiny, gated="auto")
    assert hub.api.model_info("alice/renamed").gated == "auto"
    assert set(hub.api.list_repo_files("alice/renamed")) == {".gitattributes", "a.txt", "b.txt"}
    prefix = urlsplit(hub.url).path  # the path the hub is served under, if any
    answer = httpx.get(f"{hub.url}/api/models/{tiny}/revision/main?blobs=true")
    assert answer.status_code == 307
    assert answer.headers["Location"] == f"{prefix}/api/models/alice/renamed/revision/main?blobs=true"
    assert httpx.head(f"{hub.url}/{tiny}/resolve/main/a.txt").headers["Location"] == (
        f"{prefix}/alice/renamed/resolve/main/a.txt"
    )

    # Nobody learns where a private repository went.
    hub.api.update_repo_settings("alice/renamed", private=True)
    with pytest.raises(RepositoryNotFoundError):
        hub_client(live_server.url, "bob").api.model_info(tiny)
    # A repository that takes the former id ends the redirect.
    hub.api.create_repo(tiny)
    assert hub.api.list_repo_files(tiny) == [".gitattributes"]
    assert not RepoRedirect.objects.exists()


def test_create_tag_on_missing_revision(hub, tiny):
    with pytest.raises(RevisionNotFoundError):
        hub.api.create_tag(tiny, tag="invalid tag", revision="foobar")
    with pytest.raises(RevisionNotFoundError):
        hub.api.create_tag(tiny, tag="v1", revision="0123456789abcdef0123456789abcdef01234567")
    assert hub.api.list_repo_refs(tiny).tags == []


def test_messages_clients_match_on(hub, tiny, live_server):
    hub.api.create_repo("other")
    with pytest.raises(HfHubHTTPError, match=r"A model repository called alice/other already exists"):
        hub.api.move_repo(from_id=tiny, to_id="alice/other")

    old = hub.api.model_info(tiny).sha
    hub.api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=tiny)
    with pytest.raises(HfHubHTTPError) as stale:
        hub.api.create_commit(tiny, operations=[CommitOperationAdd("two.txt", b"2")], commit_message="late",
                              parent_commit=old)  # fmt: skip
    assert stale.value.response.status_code == 412
    assert "The branch was updated since you opened this page. Please refresh and try again." in str(stale.value)

    with pytest.raises(RepositoryNotFoundError) as missing:
        hub.api.create_commit(
            "alice/repo_that_do_not_exist", operations=[CommitOperationAdd("config.json", b"c")], commit_message="m"
        )
    request_id = missing.value.response.headers["X-Request-Id"]
    assert str(missing.value) == (
        f"404 Client Error. (Request ID: {request_id})\n\nRepository Not Found for url:"
        f" {hub.url}/api/models/alice/repo_that_do_not_exist/preupload/main.\nPlease make sure you specified the"
        " correct `repo_id` and `repo_type`.\nIf you are trying to access a private or gated repo, make sure you are"
        " authenticated and your token has the required permissions."
        "\nFor more details, see https://huggingface.co/docs/huggingface_hub/authentication"
        "\nNote: Creating a commit assumes that the repo already exists on the Huggingface Hub."
        " Please use `create_repo` if it's not the case."
    )

    hub.api.update_repo_settings(tiny, gated="auto")
    with pytest.raises(GatedRepoError, match=r"Access to model alice/tiny is restricted and you are not in the"):
        hf_hub_download(tiny, "one.txt", endpoint=hub.url, token=hub_client(live_server.url, "bob").token)
    with pytest.raises(GatedRepoError, match=r"Access to model alice/tiny is restricted\. You must have access"):
        hf_hub_download(tiny, "one.txt", endpoint=hub.url)

    with pytest.raises(BadRequestError, match="Invalid rev id"):
        hub.api.delete_branch(tiny, branch="cool-branch")
    hub.api.create_tag(tiny, tag="cool-tag")
    with pytest.raises(BadRequestError, match="Invalid rev id"):
        hub.api.delete_branch(tiny, branch="cool-tag")
    with pytest.raises(HfHubHTTPError, match="Cannot delete refs/heads/main"):
        hub.api.delete_branch(tiny, branch="main")


def test_backslash_paths_are_refused_naming_the_rule(hub, tiny):
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.upload_file(path_or_fileobj=b"x", path_in_repo="..\\ddd", repo_id=tiny)
    assert raised.value.response.status_code == 422
    assert "backslashes are not allowed in paths on this hub" in str(raised.value)
    assert hub.api.list_repo_files(tiny) == [".gitattributes"]
