"""Write a repository's files at one commit into a local folder (a snapshot), for the processes
that need them on disk: the inference engine loading ``repo@sha``, training and evaluation runs.

``snapshot_materialize`` copies every file of the commit's tree out of the blob storage into
``dest_root/<repo pk>/<commit oid>/``. Commits are immutable, so a complete snapshot is reused as
it is. The files are written into a private temporary folder beside the target, each checked
against its sha256 while it is copied, and the folder is renamed into place only when it is
complete: readers never see half a snapshot, and two processes materialising the same commit at
once both end with the same complete folder (the second rename loses and its copy is removed).

Model weights come only as safetensors: pickle-based weight files (``*.bin``, ``*.pt``, ...) of
model repositories are left out, so nothing downstream can be tempted to unpickle them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from registry.choices import RepoType
from registry.models import Repo, blob_storage_key
from registry.selectors.revisions import commit_get
from registry.storage import COPY_BUFFER, blob_storage
from registry.trees import FileInfo, tree_files

# Files of model repositories that only a pickle loader reads.
PICKLE_WEIGHT_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")
MANIFEST = ".hub-snapshot.json"


class SnapshotCorrupt(RuntimeError):
    """A stored blob does not hash to the sha256 its tree entry records."""


def snapshot_path(*, repo: Repo, commit_oid: str, dest_root: Path) -> Path:
    """Where the snapshot of ``repo`` at ``commit_oid`` lives (whether or not it exists yet)."""
    return Path(dest_root) / str(repo.pk) / commit_oid


def snapshot_files(*, repo: Repo, tree_oid: str) -> list[FileInfo]:
    """The files a snapshot holds: the tree's files, less pickle weights of model repositories."""
    files = tree_files(tree_oid)
    if repo.type == RepoType.MODEL:
        files = [f for f in files if not PurePosixPath(f.path).name.lower().endswith(PICKLE_WEIGHT_SUFFIXES)]
    return files


def snapshot_materialize(*, repo: Repo, commit_oid: str, dest_root: Path) -> Path:
    """The folder holding ``repo``'s files at ``commit_oid``, written now unless already complete.

    Raises ``RevisionNotFound`` when the commit is not in ``repo`` and ``SnapshotCorrupt`` when a
    blob's bytes do not match its recorded sha256 (nothing is left behind then).
    """
    target = snapshot_path(repo=repo, commit_oid=commit_oid, dest_root=dest_root)
    if (target / MANIFEST).is_file():
        return target
    commit = commit_get(repo=repo, oid=commit_oid)
    files = snapshot_files(repo=repo, tree_oid=commit.tree_oid)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{commit_oid}-", dir=target.parent))
    try:
        for file in files:
            _copy_blob(file, scratch / file.path)
        manifest = {"repo": repo.repo_id, "commit": commit_oid, "files": sorted(f.path for f in files)}
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        try:
            os.rename(scratch, target)
        except OSError:
            # Another process finished the same snapshot first (rename onto a non-empty folder fails).
            if not (target / MANIFEST).is_file():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _copy_blob(file: FileInfo, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with blob_storage().open(blob_storage_key(file.sha256), "rb") as source, open(dest, "wb") as out:
        while chunk := source.read(COPY_BUFFER):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != file.sha256:
        raise SnapshotCorrupt(f"{file.path}: stored bytes hash to {digest.hexdigest()}, the tree records {file.sha256}")
