"""The real ``git`` against a live hub: clone and fetch over smart HTTP give the files and the commit
ids of the HF API (registry.githttp, registry.selectors.packs, registry.packcache), and what a
token may read."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from registry.choices import RepoType
from tests.frontend.builders import commit_files, make_repo
from tests.registry.git_http.helpers import api_commit_ids, commit_file, remote, without_git
from tests.support.factories import make_token, make_user
from tests.support.git import git_user, needs_git
from tests.support.hf import read_tree

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_git]


def test_clone_gives_the_api_files_byte_for_byte_and_the_same_commit_ids(hub, tiny, tmp_path):
    anonymous = git_user(tmp_path / "anonymous")
    clone = tmp_path / "clone"
    anonymous.run("clone", "-q", remote(hub, tiny), str(clone))
    expected = {
        path: hub.api.hf_hub_download(tiny, path, cache_dir=tmp_path / "cache")
        for path in hub.api.list_repo_files(tiny)
    }
    expected = {path: open(local, "rb").read() for path, local in expected.items()}  # noqa: SIM115
    assert without_git(read_tree(clone)) == expected
    assert sorted(expected) == [".gitattributes", "README.md", "src/model.py", "weights.bin"]
    assert anonymous.out("log", "--format=%H", cwd=clone).split() == api_commit_ids(hub, tiny)
    # The LFS file is an LFS file in git too: the tree holds its pointer.
    assert anonymous.out("lfs", "ls-files", "--long", cwd=clone) == (
        f"{hashlib.sha256(expected['weights.bin']).hexdigest()} * weights.bin"
    )
    assert anonymous.out("fsck", "--strict", "--no-progress", cwd=clone) == ""
    # ``.git`` is optional, as people type remotes.
    anonymous.run("clone", "-q", f"{remote(hub, tiny)}.git", str(tmp_path / "again"))
    assert without_git(read_tree(tmp_path / "again")) == expected


def test_a_second_clone_of_the_same_refs_is_sent_from_the_pack_cache(hub, tiny, tmp_path, settings):
    settings.HUB_GIT_PACK_CACHE_DIR = tmp_path / "packs"
    anonymous = git_user(tmp_path / "anonymous")

    def cached() -> list:
        return sorted((tmp_path / "packs").glob("*/*.pack"))

    def clone(name: str, *args: str) -> list[str]:
        anonymous.run("clone", "-q", *args, remote(hub, tiny), str(tmp_path / name))
        assert anonymous.out("fsck", "--strict", "--no-progress", cwd=tmp_path / name) == ""
        return anonymous.out("log", "--format=%H", cwd=tmp_path / name).split()

    first = clone("first")
    [pack] = cached()
    assert pack.read_bytes()[:4] == b"PACK"
    before = pack.stat()
    os.utime(pack, (before.st_atime - 3600, before.st_mtime - 3600))
    assert clone("second") == first == api_commit_ids(hub, tiny)
    assert without_git(read_tree(tmp_path / "second")) == without_git(read_tree(tmp_path / "first"))
    # Sent from the same file (not written again), which the read marked as recently used.
    [again] = cached()
    assert again.stat().st_ino == before.st_ino
    assert again.stat().st_mtime > before.st_mtime - 60

    # New refs are a new pack; a fetch (it has objects) and a shallow clone are planned, not cached.
    hub.api.upload_file(path_or_fileobj=b"v2\n", path_in_repo="notes.txt", repo_id=tiny)
    assert clone("third") == api_commit_ids(hub, tiny)
    assert len(cached()) == 2
    anonymous.run("pull", "-q", cwd=tmp_path / "first")
    assert anonymous.out("rev-parse", "HEAD", cwd=tmp_path / "first") == api_commit_ids(hub, tiny)[0]
    assert len(clone("shallow", "--depth", "1")) == 1
    assert len(cached()) == 2

    # Rewriting history forgets the repository's packs.
    hub.api.permanently_delete_lfs_files(tiny, list(hub.api.list_lfs_files(tiny)))
    assert cached() == []
    assert clone("rewritten") == api_commit_ids(hub, tiny)

    # A pack over a quarter of the cache's budget is sent but not kept.
    settings.HUB_GIT_PACK_CACHE_DIR = tmp_path / "small"
    settings.HUB_GIT_PACK_CACHE_BYTES = 400
    assert clone("uncached") == api_commit_ids(hub, tiny)
    assert list((tmp_path / "small").glob("*/*")) == []


def test_clone_a_dataset_and_a_tutorial(hub, tmp_path):
    anonymous = git_user(tmp_path / "anonymous")
    hub.api.create_repo("alice/dataset-one", repo_type="dataset")
    hub.api.upload_file(
        path_or_fileobj=b"a,b\n1,2\n", path_in_repo="data.csv", repo_id="alice/dataset-one", repo_type="dataset"
    )
    clone = tmp_path / "dataset"
    anonymous.run("clone", "-q", remote(hub, "alice/dataset-one", "datasets/"), str(clone))
    assert (clone / "data.csv").read_bytes() == b"a,b\n1,2\n"
    ids = [c.commit_id for c in hub.api.list_repo_commits("alice/dataset-one", repo_type="dataset")]
    assert anonymous.out("log", "--format=%H", cwd=clone).split() == ids
    # Tutorials are this hub's own type (the HF client does not know it): made through the services.
    tutorial = make_repo(hub.user, "tutorial-one", repo_type=RepoType.TUTORIAL)
    commit = commit_files(tutorial, hub.user, {"index.md": b"# Start\n"}, summary="Write")
    clone = tmp_path / "tutorial"
    anonymous.run("clone", "-q", remote(hub, "alice/tutorial-one", "tutorials/"), str(clone))
    assert (clone / "index.md").read_bytes() == b"# Start\n"
    assert anonymous.out("rev-parse", "HEAD", cwd=clone) == commit.commit.oid
    # A model of that name does not exist: anonymous callers are asked to log in (so a private
    # repository and a missing one look alike), logged-in ones are told.
    asked = anonymous.run("clone", remote(hub, "alice/dataset-one"), str(tmp_path / "wrong"), check=False)
    assert "fatal: could not read Username for" in asked.stderr
    alice = git_user(tmp_path / "alice", username="alice", token=hub.token)
    missing = alice.run("clone", remote(hub, "alice/dataset-one"), str(tmp_path / "wrong"), check=False)
    assert missing.returncode == 128
    assert "remote: Repository alice/dataset-one not found." in missing.stderr


def test_fetch_after_an_api_commit_brings_only_the_new_commit(hub, tiny, alice_git, tmp_path):
    clone = tmp_path / "clone"
    alice_git.run("clone", "-q", remote(hub, tiny), str(clone))
    hub.api.upload_file(path_or_fileobj=b"new\n", path_in_repo="src/new.py", repo_id=tiny, commit_message="API")
    loose_before = int(alice_git.out("count-objects", cwd=clone).split()[0])
    fetched = alice_git.run("fetch", "origin", cwd=clone)
    assert "main       -> origin/main" in fetched.stderr
    assert alice_git.out("rev-parse", "origin/main", cwd=clone) == api_commit_ids(hub, tiny)[0]
    alice_git.run("merge", "-q", "--ff-only", "origin/main", cwd=clone)
    assert (clone / "src" / "new.py").read_bytes() == b"new\n"
    # Only what changed travelled: the commit, the root and src/ trees and the new file.
    assert int(alice_git.out("count-objects", cwd=clone).split()[0]) == loose_before + 4


def test_shallow_clone_then_fetch_and_deepen(hub, tiny, tmp_path):
    for number in range(3):
        hub.api.upload_file(path_or_fileobj=f"{number}\n".encode(), path_in_repo="n.txt", repo_id=tiny)
    ids = api_commit_ids(hub, tiny)
    assert len(ids) == 5
    user = git_user(tmp_path / "user")
    clone = tmp_path / "shallow"
    user.run("clone", "-q", "--depth", "1", remote(hub, tiny), str(clone))
    assert user.out("rev-list", "--count", "HEAD", cwd=clone) == "1"
    assert user.out("rev-parse", "HEAD", cwd=clone) == ids[0]
    assert (clone / ".git" / "shallow").read_text().split() == [ids[0]]
    assert (clone / "n.txt").read_bytes() == b"2\n"

    hub.api.upload_file(path_or_fileobj=b"3\n", path_in_repo="n.txt", repo_id=tiny)
    user.run("fetch", "-q", "origin", cwd=clone)
    assert user.out("rev-list", "--count", "origin/main", cwd=clone) == "2"
    user.run("fetch", "-q", "--depth", "4", "origin", cwd=clone)
    assert user.out("rev-list", "--count", "origin/main", cwd=clone) == "4"
    user.run("fetch", "-q", "--unshallow", "origin", cwd=clone)
    assert user.out("log", "--format=%H", "origin/main", cwd=clone).split() == api_commit_ids(hub, tiny)
    assert user.out("fsck", "--no-progress", cwd=clone) == ""


def test_clone_and_fetch_of_a_pushed_merge_with_moves_and_reverts_carry_every_object(hub, tiny, alice_git, tmp_path):
    """A fetch sends the union of the sent commits' new objects: here objects a commit shares with
    only one of its parents, or holds at another path than its parent, must still all arrive."""
    clone = tmp_path / "clone"
    alice_git.run("clone", "-q", remote(hub, tiny), str(clone))
    before_merge = commit_file(alice_git, clone, "a.txt", b"one\n", "Main side")
    alice_git.run("checkout", "-q", "-b", "side", "HEAD~1", cwd=clone)
    commit_file(alice_git, clone, "side/b.txt", b"side\n", "Side")
    alice_git.run("checkout", "-q", "main", cwd=clone)
    alice_git.run("merge", "-q", "--no-edit", "side", cwd=clone)
    # The same folder under a second name, then a file reverted to an earlier content.
    alice_git.run("mv", "side", "moved", cwd=clone)
    (clone / "src").rename(clone / "moved" / "src")
    alice_git.run("add", "-A", cwd=clone)
    alice_git.run("commit", "-q", "-m", "Move", cwd=clone)
    commit_file(alice_git, clone, "a.txt", b"two\n", "Change")
    head = commit_file(alice_git, clone, "a.txt", b"one\n", "Revert")
    alice_git.run("push", "-q", "origin", "main", cwd=clone)

    user = git_user(tmp_path / "user")
    fresh = tmp_path / "fresh"
    user.run("clone", "-q", remote(hub, tiny), str(fresh))
    assert user.out("rev-parse", "HEAD", cwd=fresh) == head
    assert user.out("fsck", "--strict", "--no-progress", cwd=fresh) == ""
    assert user.out("rev-list", "--objects", "--all", cwd=fresh) == alice_git.out(
        "rev-list", "--objects", "main", cwd=clone
    )
    # A clone that stopped before the merge fetches the rest, the side branch's objects included.
    partial = tmp_path / "partial"
    user.run("clone", "-q", "--branch", "main", remote(hub, tiny), str(partial))
    user.run("reset", "-q", "--hard", before_merge, cwd=partial)
    user.run("reflog", "expire", "--expire=now", "--all", cwd=partial)
    user.run("update-ref", "-d", "refs/remotes/origin/main", cwd=partial)
    user.run("gc", "-q", "--prune=now", cwd=partial)
    user.run("fetch", "-q", "origin", cwd=partial)
    assert user.out("fsck", "--no-progress", "--connectivity-only", cwd=partial) == ""
    assert user.out("rev-list", "--objects", "origin/main", cwd=partial) == alice_git.out(
        "rev-list", "--objects", "main", cwd=clone
    )


def test_wrong_token_is_401_with_a_basic_challenge(hub, tiny, tmp_path):
    mallory = git_user(tmp_path / "mallory", username="alice", token="hub_not-a-token")
    clone = tmp_path / "clone"
    mallory.run("clone", "-q", remote(hub, tiny), str(clone))
    commit_file(mallory, clone, "x.txt", b"x\n", "X")
    pushed = mallory.run("push", "origin", "main", cwd=clone, check=False)
    assert pushed.returncode == 128
    assert f"fatal: Authentication failed for '{remote(hub, tiny)}/'" in pushed.stderr
    for service in ("git-upload-pack", "git-receive-pack"):
        answer = httpx.get(
            f"{remote(hub, tiny)}.git/info/refs", params={"service": service}, auth=("alice", "hub_not-a-token")
        )
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="LLM Hub", charset="UTF-8"'
        assert answer.text == "Invalid user token.\n"
    anonymous = httpx.get(f"{remote(hub, tiny)}.git/info/refs", params={"service": "git-receive-pack"})
    assert anonymous.status_code == 401


def test_private_repositories_are_unknown_to_outsiders(hub, tmp_path):
    hub.api.create_repo("secret", private=True)
    hub.api.upload_file(path_or_fileobj=b"s\n", path_in_repo="s.txt", repo_id="alice/secret")
    anonymous = git_user(tmp_path / "anonymous")
    asked = anonymous.run("clone", remote(hub, "alice/secret"), str(tmp_path / "a"), check=False)
    assert asked.returncode == 128
    assert "could not read Username" in asked.stderr
    bob = git_user(tmp_path / "bob", username="bob", token=make_token(make_user("bob")))
    hidden = bob.run("clone", remote(hub, "alice/secret"), str(tmp_path / "b"), check=False)
    assert hidden.returncode == 128
    assert "remote: Repository alice/secret not found." in hidden.stderr
    alice = git_user(tmp_path / "alice", username="alice", token=hub.token)
    alice.run("clone", "-q", remote(hub, "alice/secret"), str(tmp_path / "c"))
    assert (tmp_path / "c" / "s.txt").read_bytes() == b"s\n"
