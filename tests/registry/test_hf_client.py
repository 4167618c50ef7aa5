"""The real huggingface_hub client against a live hub (HF_PROTOCOL.md §6, default upload policy)."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.signals import request_started
from huggingface_hub import CommitOperationAdd, HfApi, RepoUrl, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile, RepoFolder

from registry.models import Repo
from tests.support.hf import random_bytes, read_tree, write_tree

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

README = "---\nlicense: apache-2.0\ntags:\n- tiny\npipeline_tag: text-generation\n---\n# Tiny\n\nA tiny model.\n"


def git_hash(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.fixture
def requests_seen():
    """(method, path) of every request the live server handles during the test."""
    seen = []

    def record(sender, environ=None, **kwargs):
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


def test_whoami_and_bad_token(hub):
    assert hub.api.whoami()["name"] == "alice"
    with pytest.raises(HfHubHTTPError) as raised:
        HfApi(endpoint=hub.url, token="bad").whoami()
    assert raised.value.response.status_code == 401


def cli_env(hub, home) -> dict:
    """The environment of an ``hf`` CLI process pointed at the live hub with alice's token."""
    env = {key: value for key, value in os.environ.items() if key != "HF_HUB_DISABLE_IMPLICIT_TOKEN"}
    return env | {"HF_ENDPOINT": hub.url, "HF_TOKEN": hub.token, "HF_HOME": str(home)}


def test_cli_whoami_and_login(hub, tmp_path):
    env = cli_env(hub, tmp_path)
    hf = os.path.join(os.path.dirname(sys.executable), "hf")
    whoami = subprocess.run([hf, "auth", "whoami"], env=env, capture_output=True, text=True, timeout=120)
    assert whoami.returncode == 0, whoami.stderr
    assert "user: alice" in whoami.stdout
    assert hub.url in whoami.stdout
    env.pop("HF_TOKEN")
    login = subprocess.run(
        [hf, "auth", "login", "--token", hub.token], env=env, capture_output=True, text=True, timeout=120
    )
    assert login.returncode == 0, login.stderr + login.stdout
    assert (tmp_path / "token").read_text().strip() == hub.token


def test_create_repo_conflict_and_dataset(hub):
    url = hub.api.create_repo("tiny")
    assert url.repo_id == "alice/tiny"
    assert url.endpoint == hub.url
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.create_repo("alice/tiny")
    assert raised.value.response.status_code == 409
    again = hub.api.create_repo("alice/tiny", exist_ok=True)
    assert (again.repo_id, again.endpoint) == (url.repo_id, url.endpoint)
    dataset = hub.api.create_repo("alice/ds", repo_type="dataset")
    assert "/datasets/alice/ds" in dataset
    assert hub.api.dataset_info("alice/ds").id == "alice/ds"


def test_new_repo_has_gitattributes_and_one_commit(hub, tiny):
    assert hub.api.list_repo_files(tiny) == [".gitattributes"]
    commits = hub.api.list_repo_commits(tiny)
    assert len(commits) == 1
    assert commits[0].title == "initial commit"


def test_upload_file_returns_commit_info(hub, tiny):
    info = hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny)
    assert len(info.oid) == 40
    assert all(char in "0123456789abcdef" for char in info.oid)
    assert info.commit_url.startswith(f"{hub.url}/alice/tiny/commit/")
    assert hub.api.model_info(tiny).sha == info.oid


def _folder(tmp_path):
    files = {
        "README.md": README.encode(),
        "config.json": b'{"model_type": "llama", "hidden_size": 8}',
        "sub/w.bin": random_bytes(3 * 1024 * 1024, seed=1),
        "model.safetensors": random_bytes(20 * 1024 * 1024, seed=2),
    }
    source = tmp_path / "source"
    write_tree(source, files)
    return source, files


@pytest.mark.slow
def test_upload_folder_then_snapshot_is_byte_identical(hub, tiny, tmp_path):
    source, files = _folder(tmp_path)
    hub.api.upload_folder(folder_path=source, repo_id=tiny, commit_message="Add model")
    target = snapshot_download(tiny, endpoint=hub.url, token=hub.token, local_dir=tmp_path / "snapshot")
    assert read_tree(target) == files | {".gitattributes": read_tree(target)[".gitattributes"]}
    assert set(read_tree(target)) == set(files) | {".gitattributes"}
    info = hub.api.model_info(tiny, files_metadata=True)
    by_name = {sibling.rfilename: sibling for sibling in info.siblings}
    assert by_name["model.safetensors"].lfs.sha256 == hashlib.sha256(files["model.safetensors"]).hexdigest()
    assert by_name["model.safetensors"].size == 20 * 1024 * 1024
    assert by_name["config.json"].lfs is None
    assert by_name["config.json"].blob_id == git_hash(files["config.json"])
    assert info.card_data.license == "apache-2.0"
    assert info.pipeline_tag == "text-generation"
    assert "tiny" in info.tags


def test_hf_hub_download_cache_layout_and_local_dir(hub, tiny, tmp_path, requests_seen):
    data = random_bytes(300_000, seed=3)
    commit = hub.api.upload_file(path_or_fileobj=data, path_in_repo="sub/w.bin", repo_id=tiny)
    cache = tmp_path / "cache"
    path = hf_hub_download(tiny, "sub/w.bin", endpoint=hub.url, token=hub.token, cache_dir=cache)
    assert Path(path).read_bytes() == data
    assert path == str(cache / "models--alice--tiny" / "snapshots" / commit.oid / "sub" / "w.bin")
    local = tmp_path / "local"
    first = hf_hub_download(tiny, "sub/w.bin", endpoint=hub.url, token=hub.token, local_dir=local)
    assert first == str(local / "sub" / "w.bin")
    assert Path(first).read_bytes() == data
    requests_seen.clear()
    hf_hub_download(tiny, "sub/w.bin", endpoint=hub.url, token=hub.token, local_dir=local)
    resolves = [(method, path) for method, path in requests_seen if "/resolve/" in path]
    assert resolves == [("HEAD", "/alice/tiny/resolve/main/sub/w.bin")]


def test_file_repo_and_revision_existence(hub, tiny):
    hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny)
    assert hub.api.file_exists(tiny, "a.txt") is True
    assert hub.api.file_exists(tiny, "nope") is False
    assert hub.api.file_exists(tiny, "a.txt", revision="nope") is False
    assert hub.api.repo_exists(tiny) is True
    assert hub.api.repo_exists("alice/missing") is False
    assert hub.api.repo_exists("missing") is False
    assert hub.api.revision_exists(tiny, "main") is True
    assert hub.api.revision_exists(tiny, "nope") is False
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(tiny, "missing.txt", endpoint=hub.url, token=hub.token)


def test_model_info_and_privacy(hub, tiny):
    commit = hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny)
    info = hub.api.model_info(tiny, files_metadata=True)
    assert info.sha == commit.oid
    assert {s.rfilename: s.size for s in info.siblings} == {".gitattributes": info.siblings[0].size, "a.txt": 2}
    assert info.last_modified.tzinfo is not None
    assert info.private is False
    hub.api.update_repo_settings(tiny, private=True)
    assert hub.api.model_info(tiny).private is True
    assert hub.api.repo_exists(tiny, token=False) is False
    assert HfApi(endpoint=hub.url).repo_exists(tiny) is False


def test_listing_files_tree_and_paths_info(hub, tiny):
    hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny)
    hub.api.upload_file(path_or_fileobj=b"w", path_in_repo="sub/deeper/w.bin", repo_id=tiny)
    assert set(hub.api.list_repo_files(tiny)) == {".gitattributes", "a.txt", "sub/deeper/w.bin"}
    top = {(type(e).__name__, e.path) for e in hub.api.list_repo_tree(tiny)}
    assert top == {("RepoFile", ".gitattributes"), ("RepoFile", "a.txt"), ("RepoFolder", "sub")}
    everything = {e.path for e in hub.api.list_repo_tree(tiny, recursive=True)}
    assert everything == {".gitattributes", "a.txt", "sub", "sub/deeper", "sub/deeper/w.bin"}
    assert {e.path for e in hub.api.list_repo_tree(tiny, path_in_repo="sub")} == {"sub/deeper"}
    with pytest.raises(EntryNotFoundError):
        list(hub.api.list_repo_tree(tiny, path_in_repo="unknown"))
    infos = hub.api.get_paths_info(tiny, ["a.txt", "sub", "nope"])
    assert len(infos) == 2
    file, folder = sorted(infos, key=lambda e: e.path)
    assert isinstance(file, RepoFile)
    assert file.blob_id == git_hash(b"hi")
    assert isinstance(folder, RepoFolder)


def test_tree_expand_gives_last_commits(hub, tiny):
    first = hub.api.upload_file(path_or_fileobj=b"one", path_in_repo="a.txt", repo_id=tiny, commit_message="add a")
    second = hub.api.upload_file(path_or_fileobj=b"two", path_in_repo="b.txt", repo_id=tiny, commit_message="add b")
    entries = {e.path: e for e in hub.api.list_repo_tree(tiny, expand=True)}
    assert entries["a.txt"].last_commit.oid == first.oid
    assert entries["a.txt"].last_commit.title == "add a"
    assert entries["b.txt"].last_commit.oid == second.oid


def test_branches_commits_and_tags(hub, tiny):
    hub.api.create_branch(tiny, branch="dev")
    assert hub.api.model_info(tiny, revision="dev").sha == hub.api.model_info(tiny).sha
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.create_branch(tiny, branch="dev")
    assert raised.value.response.status_code == 409
    hub.api.create_branch(tiny, branch="dev", exist_ok=True)
    hub.api.upload_file(
        path_or_fileobj=b"d", path_in_repo="d.txt", repo_id=tiny, revision="dev", commit_message="on dev"
    )
    assert hub.api.list_repo_commits(tiny, revision="dev")[0].title == "on dev"
    assert [c.title for c in hub.api.list_repo_commits(tiny)] == ["initial commit"]
    assert hub.api.file_exists(tiny, "d.txt") is False
    hub.api.delete_branch(tiny, branch="dev")
    with pytest.raises(RevisionNotFoundError):
        hub.api.model_info(tiny, revision="dev")
    sha = hub.api.model_info(tiny).sha
    hub.api.create_tag(tiny, tag="v1")
    hub.api.create_tag(tiny, tag="v1b", revision=sha[:7])
    tags = {t.name: t.target_commit for t in hub.api.list_repo_refs(tiny).tags}
    assert tags == {"v1": sha, "v1b": sha}
    hub.api.delete_tag(tiny, tag="v1")
    with pytest.raises(RevisionNotFoundError):
        hub.api.delete_tag(tiny, tag="v1")
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.create_tag(tiny, tag="invalid tag")
    assert raised.value.response.status_code == 400


def test_branch_name_with_slash(hub, tiny):
    hub.api.create_branch(tiny, branch="feature/x")
    hub.api.upload_file(path_or_fileobj=b"f", path_in_repo="dir/f.txt", repo_id=tiny, revision="feature/x")
    path = hf_hub_download(tiny, "dir/f.txt", revision="feature/x", endpoint=hub.url, token=hub.token)
    assert Path(path).read_bytes() == b"f"
    assert {e.path for e in hub.api.list_repo_tree(tiny, revision="feature/x", path_in_repo="dir")} == {"dir/f.txt"}
    assert {e.path for e in hub.api.list_repo_tree(tiny, revision="feature/x")} == {".gitattributes", "dir"}


def test_list_models_sort_limit_and_link_pages(hub, settings):
    for name in ("tiny", "tinier", "other"):
        hub.api.create_repo(name)
    hub.api.create_repo("alice/ds", repo_type="dataset")
    newest = hub.api.list_models(author="alice", sort="last_modified", limit=2)
    assert [m.id for m in newest] == ["alice/other", "alice/tinier"]
    settings.HUB_LIST_PAGE_SIZE = 1
    assert sorted(m.id for m in hub.api.list_models(author="alice")) == ["alice/other", "alice/tinier", "alice/tiny"]
    assert sorted(m.id for m in hub.api.list_models(search="tin")) == ["alice/tinier", "alice/tiny"]
    assert [d.id for d in hub.api.list_datasets(author="alice")] == ["alice/ds"]


def test_list_models_follows_keyset_cursors_in_order(hub, settings, requests_seen):
    for name in ("a", "b", "c", "d", "e"):
        hub.api.create_repo(name)
    Repo.objects.filter(name__in=["b", "d"]).update(downloads=5)
    settings.HUB_LIST_PAGE_SIZE = 2
    # most downloaded first, ties newest id first; three pages through the Link header's cursors
    ids = [m.id for m in hub.api.list_models(author="alice", sort="downloads")]
    assert ids == ["alice/d", "alice/b", "alice/e", "alice/c", "alice/a"]
    assert requests_seen.count(("GET", "/api/models")) == 3
    trending = [m.id for m in hub.api.list_models(author="alice")]
    assert sorted(trending) == sorted(ids)
    assert len(trending) == 5


def test_delete_file_and_folder(hub, tiny):
    hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny)
    hub.api.upload_file(path_or_fileobj=b"w", path_in_repo="sub/w.bin", repo_id=tiny)
    hub.api.delete_file("a.txt", tiny)
    hub.api.delete_folder("sub", tiny)
    assert hub.api.list_repo_files(tiny) == [".gitattributes"]
    with pytest.raises(EntryNotFoundError):
        hub.api.delete_file("a.txt", tiny)


def test_stale_parent_commit_is_refused(hub, tiny):
    old = hub.api.model_info(tiny).sha
    hub.api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=tiny)
    with pytest.raises(HfHubHTTPError) as raised:
        hub.api.create_commit(
            tiny, operations=[CommitOperationAdd("two.txt", b"2")], commit_message="late", parent_commit=old
        )
    assert raised.value.response.status_code == 412
    assert hub.api.file_exists(tiny, "two.txt") is False


def test_invalid_readme_metadata_is_refused(hub, tiny):
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        hub.api.upload_file(
            path_or_fileobj=b"---\nlicense: not-a-license\n---\n", path_in_repo="README.md", repo_id=tiny
        )
    assert hub.api.file_exists(tiny, "README.md") is False


def test_cli_upload_and_download(hub, tmp_path):
    env = cli_env(hub, tmp_path / "home")
    hf = os.path.join(os.path.dirname(sys.executable), "hf")
    (tmp_path / "file.txt").write_bytes(b"from the cli\n")
    upload = subprocess.run(
        [hf, "upload", "alice/tiny", str(tmp_path / "file.txt"), "file.txt"],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert upload.returncode == 0, upload.stderr
    download = subprocess.run(
        [hf, "download", "alice/tiny", "file.txt", "--local-dir", str(tmp_path / "d")],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert download.returncode == 0, download.stderr
    assert (tmp_path / "d" / "file.txt").read_bytes() == b"from the cli\n"


def test_delete_repo(hub, tiny):
    hub.api.delete_repo(tiny)
    hub.api.delete_repo(tiny, missing_ok=True)
    assert hub.api.repo_exists(tiny) is False
    assert Repo.objects.count() == 0


def test_move_repo(hub, tiny):
    hub.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=tiny)
    hub.api.move_repo(from_id=tiny, to_id="alice/renamed")
    assert hub.api.model_info(tiny).id == "alice/renamed"  # the former id redirects, as on the Hub
    assert hub.api.list_repo_files("alice/renamed") == [".gitattributes", "a.txt"]
    assert RepoUrl(f"{hub.url}/alice/renamed", endpoint=hub.url).repo_id == "alice/renamed"


@pytest.mark.slow
def test_regular_policy_inlines_every_file_and_still_stores_lfs(hub, tiny, tmp_path, settings, requests_seen):
    """With ``HUB_UPLOAD_POLICY=regular`` the stock client (hf_xet installed) sends everything
    inline; the hub still stores weights as LFS objects by .gitattributes and size."""
    settings.HUB_UPLOAD_POLICY = "regular"
    source, files = _folder(tmp_path)
    hub.api.upload_folder(folder_path=source, repo_id=tiny)
    assert not [path for _method, path in requests_seen if "xet" in path or "/info/lfs/" in path]
    target = snapshot_download(tiny, endpoint=hub.url, token=hub.token, local_dir=tmp_path / "snapshot")
    assert {k: v for k, v in read_tree(target).items() if k != ".gitattributes"} == files
    siblings = {s.rfilename: s for s in hub.api.model_info(tiny, files_metadata=True).siblings}
    assert siblings["model.safetensors"].lfs.sha256 == hashlib.sha256(files["model.safetensors"]).hexdigest()
    assert siblings["config.json"].lfs is None
