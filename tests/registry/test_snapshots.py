"""Snapshots: a commit's files written out of the blob storage, atomically, reused once complete."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest

from registry.choices import RepoType
from registry.errors import RevisionNotFound
from registry.models import blob_storage_key
from registry.snapshots import MANIFEST, SnapshotCorrupt, snapshot_materialize
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

    path = snapshot_materialize(repo=repo, commit_oid=first.commit.oid, dest_root=tmp_path)

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
    path = snapshot_materialize(repo=repo, commit_oid=result.commit.oid, dest_root=tmp_path)
    assert (path / "train.bin").read_bytes() == b"\x00\x01\x02"


def test_a_complete_snapshot_is_reused_without_reading_the_database(alice, tmp_path, django_assert_num_queries):
    repo = make_repo(alice, "again")
    oid = commit_files(repo, alice, FILES).commit.oid
    path = snapshot_materialize(repo=repo, commit_oid=oid, dest_root=tmp_path)
    (path / "config.json").write_bytes(b"marker")
    with django_assert_num_queries(0):
        assert snapshot_materialize(repo=repo, commit_oid=oid, dest_root=tmp_path) == path
    assert (path / "config.json").read_bytes() == b"marker"


def test_unknown_commit_and_corrupt_blob_leave_nothing(alice, tmp_path):
    repo = make_repo(alice, "broken")
    content = f"unique to this test: {uuid.uuid4()}\n".encode()  # the blob storage is shared by every test
    oid = commit_files(repo, alice, {"a.txt": content}).commit.oid
    with pytest.raises(RevisionNotFound):
        snapshot_materialize(repo=repo, commit_oid="0" * 40, dest_root=tmp_path)

    key = blob_storage_key(hashlib.sha256(content).hexdigest())
    storage = blob_storage()
    storage.delete(key)
    storage.save(key, io.BytesIO(b"tampered"))
    try:
        with pytest.raises(SnapshotCorrupt, match=r"a\.txt: stored bytes hash to"):
            snapshot_materialize(repo=repo, commit_oid=oid, dest_root=tmp_path)
    finally:
        storage.delete(key)
    assert list((tmp_path / str(repo.pk)).iterdir()) == []
