"""The real ``git`` and ``git-lfs`` pushing to a live hub over smart HTTP, through the same rules as the
HF API (registry.githttp, registry.services.pushes): new branches and tags, LFS files, races with API
commits, refusals with their reasons, pull request refs, and the LFS batch API's side of git-lfs."""

from __future__ import annotations

import base64
import hashlib
import stat
import sys

import httpx
import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

from community.models import Discussion
from registry.models import GitCommit
from tests.registry.git_http.helpers import README, api_commit_ids, commit_file, remote
from tests.support.factories import make_token
from tests.support.git import git_user, needs_git
from tests.support.hf import hub_client, random_bytes

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_git]


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


def test_read_tokens_cannot_push(hub, tiny, tmp_path):
    reader = git_user(tmp_path / "reader", username="alice", token=make_token(hub.user, role="read", name="ro"))
    clone = tmp_path / "clone"
    reader.run("clone", "-q", remote(hub, tiny), str(clone))
    commit_file(reader, clone, "x.txt", b"x\n", "X")
    pushed = reader.run("push", "origin", "main", cwd=clone, check=False)
    assert pushed.returncode == 128
    assert "remote: This token is read-only; create a token with the 'write' role to push." in pushed.stderr


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
