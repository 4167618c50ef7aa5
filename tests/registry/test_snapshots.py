"""Snapshots of a commit on local disk, written from the blob storage."""

import os

import pytest

from registry.snapshots import COMPLETE_MARKER, snapshot_materialize, snapshot_prune
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db


def _files(root):
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != COMPLETE_MARKER
    }


def test_a_snapshot_holds_the_files_of_its_commit_and_not_later_ones(tmp_path, settings):
    settings.HUB_LFS_THRESHOLD_BYTES = 1000  # weights.bin becomes an LFS file
    owner = make_user()
    repo = make_repo(owner, "snap")
    first = commit_files(repo, owner, {"a.txt": b"one", "sub/b.json": b"{}", "weights.bin": b"w" * 4000})
    commit_files(repo, owner, {"a.txt": b"two"}, delete=("sub/b.json",))

    path = snapshot_materialize(repo=repo, commit_oid=first.commit.oid, root=tmp_path)

    assert path == tmp_path / str(repo.pk) / first.commit.oid
    files = _files(path)
    assert sorted(files) == [".gitattributes", "a.txt", "sub/b.json", "weights.bin"]
    assert (files["a.txt"], files["sub/b.json"], files["weights.bin"]) == (b"one", b"{}", b"w" * 4000)
    assert (path / COMPLETE_MARKER).read_text() == f"{repo.repo_id}@{first.commit.oid}\n"
    assert [p.name for p in path.parent.iterdir()] == [first.commit.oid]  # no partial folder left


def test_a_complete_snapshot_is_reused_and_patterns_select_files(tmp_path):
    owner = make_user()
    repo = make_repo(owner, "snap")
    head = commit_files(repo, owner, {"suite.yaml": b"name: x\n", "data/items.jsonl": b"{}\n"}).commit.oid

    full = snapshot_materialize(repo=repo, commit_oid=head, root=tmp_path)
    (full / "a-marker-of-reuse").write_text("kept")
    assert snapshot_materialize(repo=repo, commit_oid=head, root=tmp_path) == full
    assert (full / "a-marker-of-reuse").read_text() == "kept"

    yaml_only = snapshot_materialize(repo=repo, commit_oid=head, root=tmp_path, patterns=["*.yaml"])
    assert yaml_only != full
    assert _files(yaml_only) == {"suite.yaml": b"name: x\n"}


def test_prune_removes_snapshots_unused_for_long_and_keeps_the_others(tmp_path):
    owner = make_user()
    repo = make_repo(owner, "snap")
    old = commit_files(repo, owner, {"a.txt": b"1"}).commit.oid
    new = commit_files(repo, owner, {"a.txt": b"2"}).commit.oid
    old_path = snapshot_materialize(repo=repo, commit_oid=old, root=tmp_path)
    new_path = snapshot_materialize(repo=repo, commit_oid=new, root=tmp_path)
    long_ago = os.stat(old_path / COMPLETE_MARKER).st_mtime - 7200
    os.utime(old_path / COMPLETE_MARKER, (long_ago, long_ago))

    assert snapshot_prune(root=tmp_path, unused_for_seconds=3600) == 1
    assert not old_path.exists()
    assert new_path.is_dir()
