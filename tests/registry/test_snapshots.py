"""Snapshots: a commit's files written out of the blob storage, atomically, reused once complete."""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid

import pytest

from registry.choices import RepoType
from registry.errors import RevisionNotFound
from registry.models import blob_storage_key
from registry.snapshots import MANIFEST, SnapshotCorrupt, snapshot_materialize, snapshot_prune
from registry.storage import blob_storage
from tests.frontend.builders import commit_files, fast_passwords, make_repo  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

FILES = {
    "config.json": b'{"model_type": "llama"}\n',
    "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
    "pytorch_model.bin": b"PK\x03\x04 a pickle archive",
    "sub/notes.txt": b"nested\n",
}


def test_snapshot_holds_the_commit_files_but_no_pickle_weights(alice, tmp_path):
    repo = make_repo(alice, "snap")
    first = commit_files(repo, alice, FILES, summary="Add")
    commit_files(repo, alice, {"config.json": b"{}\n"}, summary="Change the config")

    path = snapshot_materialize(repo=repo, commit_oid=first.commit.oid, root=tmp_path)

    assert path == tmp_path / str(repo.pk) / first.commit.oid
    written = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    assert written == [".gitattributes", MANIFEST, "config.json", "model.safetensors", "sub/notes.txt"]
    assert (path / "config.json").read_bytes() == FILES["config.json"]
    assert (path / "sub/notes.txt").read_bytes() == b"nested\n"
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest == {
        "repo": "alice/snap",
        "commit": first.commit.oid,
        "files": [".gitattributes", "config.json", "model.safetensors", "sub/notes.txt"],
    }
    assert sorted(p.name for p in path.parent.iterdir()) == [first.commit.oid]  # no scratch folder left


def test_dataset_snapshots_keep_bin_files(alice, tmp_path):
    repo = make_repo(alice, "tokens", repo_type=RepoType.DATASET)
    result = commit_files(repo, alice, {"train.bin": b"\x00\x01\x02", "README.md": b"# data\n"})
    path = snapshot_materialize(repo=repo, commit_oid=result.commit.oid, root=tmp_path)
    assert (path / "train.bin").read_bytes() == b"\x00\x01\x02"


def test_a_complete_snapshot_is_reused_without_reading_the_database(alice, tmp_path, django_assert_num_queries):
    repo = make_repo(alice, "again")
    oid = commit_files(repo, alice, FILES).commit.oid
    path = snapshot_materialize(repo=repo, commit_oid=oid, root=tmp_path)
    (path / "config.json").write_bytes(b"marker")
    with django_assert_num_queries(0):
        assert snapshot_materialize(repo=repo, commit_oid=oid, root=tmp_path) == path
    assert (path / "config.json").read_bytes() == b"marker"


def test_unknown_commit_and_corrupt_blob_leave_nothing(alice, tmp_path):
    repo = make_repo(alice, "broken")
    content = f"unique to this test: {uuid.uuid4()}\n".encode()  # the blob storage is shared by every test
    oid = commit_files(repo, alice, {"a.txt": content}).commit.oid
    with pytest.raises(RevisionNotFound):
        snapshot_materialize(repo=repo, commit_oid="0" * 40, root=tmp_path)

    key = blob_storage_key(hashlib.sha256(content).hexdigest())
    storage = blob_storage()
    storage.delete(key)
    storage.save(key, io.BytesIO(b"tampered"))
    try:
        with pytest.raises(SnapshotCorrupt, match=r"a\.txt: stored bytes hash to"):
            snapshot_materialize(repo=repo, commit_oid=oid, root=tmp_path)
    finally:
        storage.delete(key)
    assert list((tmp_path / str(repo.pk)).iterdir()) == []


def test_patterns_select_files_and_give_a_snapshot_of_their_own(alice, tmp_path):
    repo = make_repo(alice, "suite", repo_type=RepoType.DATASET)
    head = commit_files(repo, alice, {"suite.yaml": b"name: x\n", "data/items.jsonl": b"{}\n"}).commit.oid
    full = snapshot_materialize(repo=repo, commit_oid=head, root=tmp_path)
    yaml_only = snapshot_materialize(repo=repo, commit_oid=head, root=tmp_path, patterns=["*.yaml"])
    assert yaml_only != full
    assert sorted(str(p.relative_to(yaml_only)) for p in yaml_only.rglob("*") if p.is_file()) == [
        MANIFEST, "suite.yaml",
    ]  # fmt: skip
    assert (full / "data/items.jsonl").read_bytes() == b"{}\n"


def test_prune_removes_snapshots_unused_for_long_and_keeps_the_others(alice, tmp_path):
    repo = make_repo(alice, "snap")
    old = commit_files(repo, alice, {"a.txt": b"1"}).commit.oid
    new = commit_files(repo, alice, {"a.txt": b"2"}).commit.oid
    old_path = snapshot_materialize(repo=repo, commit_oid=old, root=tmp_path)
    new_path = snapshot_materialize(repo=repo, commit_oid=new, root=tmp_path)
    long_ago = os.stat(old_path / MANIFEST).st_mtime - 7200
    os.utime(old_path / MANIFEST, (long_ago, long_ago))

    assert snapshot_prune(root=tmp_path, unused_for_seconds=3600) == 1
    assert not old_path.exists()
    assert new_path.is_dir()
