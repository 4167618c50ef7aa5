"""The real ``git`` and ``git-lfs`` against a live hub: clone, fetch and push over smart HTTP, through
the same rules as the HF API (registry.githttp, registry.services.pushes)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import sys

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

from community.models import Discussion
from registry.choices import RepoType
from registry.models import GitCommit
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_token, make_user
from tests.support.git import git_user, needs_git
from tests.support.hf import hub_client, random_bytes, read_tree

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_git]

README = "---\nlicense: mit\ntags:\n- tiny\n---\n# Tiny\n\nA tiny model.\n"


@pytest.fixture
def tiny(hub):
    """alice/tiny made through the HF API: a README, a regular file in a folder and an LFS file."""
    hub.api.create_repo("tiny")
    hub.api.create_commit(
        "alice/tiny",
        operations=[
            CommitOperationAdd("README.md", README.encode()),
            CommitOperationAdd("src/model.py", b"print('hello')\n"),
            CommitOperationAdd("weights.bin", random_bytes(150_000, seed=1)),
        ],
        commit_message="Add the model",
    )
    return "alice/tiny"


@pytest.fixture
def alice_git(hub, tmp_path):
    return git_user(tmp_path / "alice", username="alice", token=hub.token)


def remote(hub, repo_id: str, prefix: str = "") -> str:
    return f"{hub.url}/{prefix}{repo_id}"


def api_commit_ids(hub, repo_id: str, revision: str = "main", **kwargs) -> list[str]:
    return [commit.commit_id for commit in hub.api.list_repo_commits(repo_id, revision=revision, **kwargs)]


def without_git(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in tree.items() if not path.startswith(".git/")}


def commit_file(user, clone, path: str, data: bytes, message: str) -> str:
    target = clone / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    user.run("add", path, cwd=clone)
    user.run("commit", "-q", "-m", message, cwd=clone)
    return user.out("rev-parse", "HEAD", cwd=clone)


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


def test_push_with_lfs_files_shows_through_the_api_and_the_pages(hub, tiny, alice_git, tmp_path, client):
    clone = tmp_path / "clone"
    alice_git.run("clone", "-q", remote(hub, tiny), str(clone))
    alice_git.run("lfs", "install", cwd=clone)
    alice_git.run("lfs", "track", "*.weights", cwd=clone)
    checkpoint = random_bytes(300_000, seed=2)
    (clone / "checkpoints").mkdir()
    (clone / "checkpoints" / "step-1.weights").write_bytes(checkpoint)
    (clone / "README.md").write_text(README.replace("- tiny", "- tiny\n- pushed"))
    alice_git.run("add", ".", cwd=clone)
    alice_git.run("commit", "-q", "-m", "Add a checkpoint\n\nTrained for one step.", cwd=clone)
    head = alice_git.out("rev-parse", "HEAD", cwd=clone)
    pushed = alice_git.run("push", "origin", "main", cwd=clone)
    assert "main -> main" in pushed.stderr

    assert api_commit_ids(hub, tiny)[0] == head
    info = hub.api.model_info(tiny, files_metadata=True)
    assert info.sha == head
    assert info.card_data["tags"] == ["tiny", "pushed"]
    sibling = next(s for s in info.siblings if s.rfilename == "checkpoints/step-1.weights")
    assert (sibling.size, sibling.lfs.sha256) == (300_000, hashlib.sha256(checkpoint).hexdigest())
    local = hf_hub_download(tiny, "checkpoints/step-1.weights", endpoint=hub.url, cache_dir=tmp_path / "cache")
    assert open(local, "rb").read() == checkpoint  # noqa: SIM115
    attributes = hf_hub_download(tiny, ".gitattributes", endpoint=hub.url, cache_dir=tmp_path / "cache")
    assert open(attributes).read().endswith("*.weights filter=lfs diff=lfs merge=lfs -text\n")  # noqa: SIM115

    commit = GitCommit.objects.get(oid=head)
    assert (commit.title, commit.author_name, commit.author_email, commit.author.username) == (
        "Add a checkpoint",
        "Alice Example",
        "alice@example.org",
        "alice",
    )
    history = client.get("/alice/tiny/commits/main")
    assert history.status_code == 200
    assert history.content.decode().count("Add a checkpoint") == 1
    page = client.get(f"/alice/tiny/commit/{head}")
    assert page.status_code == 200
    assert "checkpoints/step-1.weights" in page.content.decode()
    tree = client.get("/alice/tiny/tree/main/checkpoints")
    assert "step-1.weights" in tree.content.decode()

    # A fresh clone by someone else gets the pushed history and content.
    bob = git_user(tmp_path / "bob")
    bob.run("clone", "-q", remote(hub, tiny), str(tmp_path / "bob-clone"))
    assert (tmp_path / "bob-clone" / "checkpoints" / "step-1.weights").read_bytes() == checkpoint
    assert bob.out("rev-parse", "HEAD", cwd=tmp_path / "bob-clone") == head


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


def test_push_a_new_branch_and_a_tag(hub, tiny, alice_git, tmp_path):
    clone = tmp_path / "clone"
    alice_git.run("clone", "-q", remote(hub, tiny), str(clone))
    alice_git.run("checkout", "-q", "-b", "feature/x", cwd=clone)
    head = commit_file(alice_git, clone, "feature.txt", b"feature\n", "Feature")
    alice_git.run("push", "-q", "origin", "feature/x", cwd=clone)
    alice_git.run("tag", "v1.0", cwd=clone)
    alice_git.run("push", "-q", "origin", "v1.0", cwd=clone)
    refs = hub.api.list_repo_refs(tiny)
    assert {(b.name, b.target_commit) for b in refs.branches} == {
        ("main", api_commit_ids(hub, tiny)[0]),
        ("feature/x", head),
    }
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", head)]
    assert api_commit_ids(hub, tiny, revision="v1.0")[0] == head

    # Tags do not move, annotated tags are not stored, deleting a branch works.
    commit_file(alice_git, clone, "feature.txt", b"feature 2\n", "Feature 2")
    alice_git.run("tag", "-f", "v1.0", cwd=clone)
    moved = alice_git.run("push", "--force", "origin", "v1.0", cwd=clone, check=False)
    assert moved.returncode == 1
    assert "! [remote rejected] v1.0 -> v1.0 (tag v1.0 already exists; tags do not move)" in moved.stderr
    alice_git.run("tag", "-a", "-m", "Annotated", "v2.0", cwd=clone)
    annotated = alice_git.run("push", "origin", "v2.0", cwd=clone, check=False)
    assert annotated.returncode == 1
    assert "Annotated tags are not supported: push lightweight tags (git tag NAME)." in annotated.stderr
    # A branch at a commit the hub already has: the pack is empty.
    alice_git.run("push", "-q", "origin", "origin/main:refs/heads/copy", cwd=clone)
    branches = {b.name: b.target_commit for b in hub.api.list_repo_refs(tiny).branches}
    assert branches["copy"] == branches["main"]
    alice_git.run("push", "-q", "origin", "--delete", "feature/x", "copy", cwd=clone)
    assert [b.name for b in hub.api.list_repo_refs(tiny).branches] == ["main"]
    deleted = alice_git.run("push", "origin", "--delete", "main", cwd=clone, check=False)
    assert "(cannot delete refs/heads/main: it is the default branch)" in deleted.stderr


def test_non_fast_forward_push_is_refused_and_changes_nothing(hub, tiny, alice_git, tmp_path):
    clone = tmp_path / "clone"
    alice_git.run("clone", "-q", remote(hub, tiny), str(clone))
    hub.api.upload_file(path_or_fileobj=b"api\n", path_in_repo="api.txt", repo_id=tiny, commit_message="API")
    before = api_commit_ids(hub, tiny)
    commit_file(alice_git, clone, "local.txt", b"local\n", "Local")
    alice_git.run("fetch", "-q", cwd=clone)
    forced = alice_git.run("push", "--force", "origin", "main", cwd=clone, check=False)
    assert forced.returncode == 1
    assert "non-fast-forward: the push would drop commits from the ref" in forced.stderr
    assert "! [remote rejected] main -> main" in forced.stderr
    assert api_commit_ids(hub, tiny) == before


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


def test_read_tokens_cannot_push(hub, tiny, tmp_path):
    reader = git_user(tmp_path / "reader", username="alice", token=make_token(hub.user, role="read", name="ro"))
    clone = tmp_path / "clone"
    reader.run("clone", "-q", remote(hub, tiny), str(clone))
    commit_file(reader, clone, "x.txt", b"x\n", "X")
    pushed = reader.run("push", "origin", "main", cwd=clone, check=False)
    assert pushed.returncode == 128
    assert "remote: This token is read-only; create a token with the 'write' role to push." in pushed.stderr


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


def test_a_racing_api_commit_and_push_one_wins_nothing_is_lost(hub, tiny, alice_git, tmp_path):
    clone = tmp_path / "clone"
    alice_git.run("clone", "-q", remote(hub, tiny), str(clone))
    seen = api_commit_ids(hub, tiny)[0]
    local = commit_file(alice_git, clone, "pushed.txt", b"pushed\n", "Pushed")
    # The API commit lands after git read the refs and before it sends the pack: git's pre-push hook.
    hook = clone / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!{sys.executable}\n"
        "from huggingface_hub import HfApi\n"
        f"HfApi(endpoint={hub.url!r}, token={hub.token!r}).upload_file(path_or_fileobj=b'api\\n', "
        f"path_in_repo='api.txt', repo_id={tiny!r}, commit_message='Racing API commit')\n"
    )
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    raced = alice_git.run("push", "origin", "main", cwd=clone, check=False)
    assert raced.returncode == 1
    assert "! [remote rejected] main -> main (stale info: the ref moved since you fetched" in raced.stderr
    api_head = api_commit_ids(hub, tiny)[0]
    assert api_head != seen
    assert api_commit_ids(hub, tiny)[1] == seen
    assert local not in api_commit_ids(hub, tiny)

    # The other way round: the push lands first, the API commit on the stale parent gets 412.
    hook.unlink()
    alice_git.run("pull", "-q", "--rebase", "origin", "main", cwd=clone)
    alice_git.run("push", "-q", "origin", "main", cwd=clone)
    with pytest.raises(HfHubHTTPError) as stale:
        hub.api.upload_file(path_or_fileobj=b"late\n", path_in_repo="late.txt", repo_id=tiny, parent_commit=api_head)
    assert stale.value.response.status_code == 412
    files = set(hub.api.list_repo_files(tiny))
    assert {"api.txt", "pushed.txt"} <= files
    assert "late.txt" not in files
    assert api_commit_ids(hub, tiny)[1] == api_head


def test_pushes_that_break_the_commit_rules_are_refused_with_the_reason(hub, tiny, alice_git, tmp_path, settings):
    clone = tmp_path / "clone"
    alice_git.run("clone", "-q", remote(hub, tiny), str(clone))
    alice_git.run("lfs", "install", cwd=clone)
    before = api_commit_ids(hub, tiny)

    # An LFS pointer whose object never reached the hub (git-lfs told to skip the upload).
    commit_file(alice_git, clone, "big.bin", random_bytes(1000, seed=3), "Add a weight file")
    env = alice_git.env
    alice_git.env = {**env, "GIT_LFS_SKIP_PUSH": "1"}
    pushed = alice_git.run("push", "origin", "main", cwd=clone, check=False)
    alice_git.env = env
    sha256 = hashlib.sha256(random_bytes(1000, seed=3)).hexdigest()
    assert pushed.returncode == 1
    assert f"remote: error: LFS objects missing (1): big.bin ({sha256})." in pushed.stderr
    alice_git.run("reset", "-q", "--hard", "origin/main", cwd=clone)

    # A file the Hub keeps in LFS, pushed as plain content.
    settings.HUB_LFS_THRESHOLD_BYTES = 500
    commit_file(alice_git, clone, "notes.txt", b"n" * 600, "Long notes")
    pushed = alice_git.run("push", "origin", "main", cwd=clone, check=False)
    assert "'notes.txt' (600 bytes) must be stored with Git LFS" in pushed.stderr
    alice_git.run("reset", "-q", "--hard", "origin/main", cwd=clone)

    # Invalid card metadata.
    commit_file(alice_git, clone, "README.md", b"---\nlicense: [not, a, license\n---\n", "Break the card")
    pushed = alice_git.run("push", "origin", "main", cwd=clone, check=False)
    assert "(Invalid metadata in README.md:" in pushed.stderr
    alice_git.run("reset", "-q", "--hard", "origin/main", cwd=clone)

    # Symbolic links and refs outside branches, tags and pull requests.
    (clone / "link").symlink_to("README.md")
    alice_git.run("add", "link", cwd=clone)
    alice_git.run("commit", "-q", "-m", "Link", cwd=clone)
    pushed = alice_git.run("push", "origin", "main", cwd=clone, check=False)
    assert "'link' is a symbolic link; the hub stores files only." in pushed.stderr
    odd = alice_git.run("push", "origin", "HEAD:refs/notes/x", cwd=clone, check=False)
    only = "(only branches (refs/heads/*), tags (refs/tags/*) and pull requests (refs/pr/N) can be pushed)"
    assert only in odd.stderr
    assert api_commit_ids(hub, tiny) == before
    assert sorted(hub.api.list_repo_files(tiny)) == [".gitattributes", "README.md", "src/model.py", "weights.bin"]


def test_pushes_to_a_pull_request_ref_update_the_open_pull_request(hub, tiny, tmp_path, live_server):
    bob = hub_client(live_server.url, "bob")
    pr = bob.api.create_pull_request(tiny, title="Better docs")
    bob_git = git_user(tmp_path / "bob", name="Bob", email="bob@example.org", username="bob", token=bob.token)
    clone = tmp_path / "clone"
    bob_git.run("clone", "-q", remote(hub, tiny), str(clone))
    bob_git.run("fetch", "-q", "origin", f"{pr.git_reference}:pr", cwd=clone)
    bob_git.run("checkout", "-q", "pr", cwd=clone)
    head = commit_file(bob_git, clone, "docs.md", b"# Docs\n", "Write docs")
    bob_git.run("push", "-q", "origin", f"HEAD:{pr.git_reference}", cwd=clone)
    details = hub.api.get_discussion_details(tiny, pr.num)
    assert [(e.type, getattr(e, "oid", None)) for e in details.events][-1] == ("commit", head)
    assert api_commit_ids(hub, tiny, revision=pr.git_reference)[0] == head
    # Not to the default branch (bob cannot write), nor to a pull request that does not exist.
    denied = bob_git.run("push", "origin", "HEAD:main", cwd=clone, check=False)
    assert "(you are not allowed to write to alice/tiny; push to a pull request (refs/pr/N) instead)" in denied.stderr
    missing = bob_git.run("push", "origin", "HEAD:refs/pr/99", cwd=clone, check=False)
    assert "(there is no pull request #99; open one on the hub first)" in missing.stderr
    hub.api.change_discussion_status(tiny, pr.num, new_status="closed")
    commit_file(bob_git, clone, "docs.md", b"# Docs, again\n", "More docs")
    closed = bob_git.run("push", "origin", f"HEAD:{pr.git_reference}", cwd=clone, check=False)
    assert f"(Pull request #{pr.num} is closed; reopen it to add commits.)" in closed.stderr
    assert Discussion.objects.get(num=pr.num).status == "closed"


def test_lfs_locking_is_answered_as_not_supported(hub, tiny):
    answer = httpx.post(
        f"{remote(hub, tiny)}.git/info/lfs/locks/verify", json={}, headers={"Accept": "application/vnd.git-lfs+json"}
    )
    assert (answer.status_code, answer.json()) == (501, {"message": "File locking is not supported by this hub."})


def test_basic_auth_is_accepted_by_the_lfs_batch_api(hub, tiny):
    credentials = base64.b64encode(f"alice:{hub.token}".encode()).decode()
    answer = httpx.post(
        f"{remote(hub, tiny)}.git/info/lfs/objects/batch",
        json={
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{"oid": "a" * 64, "size": 3}],
            "ref": {"name": "refs/heads/main"},
        },
        headers={"Authorization": f"Basic {credentials}", "Accept": "application/vnd.git-lfs+json"},
    )
    assert answer.status_code == 200
    assert answer.json()["transfer"] == "basic"
    assert list(answer.json()["objects"][0]["actions"]) == ["upload", "verify"]
