"""Repository snapshots on local disk: the files of one commit, for processes that need a folder.

Training and evaluation runs and the inference engine read models and datasets as plain
directories. ``snapshot_materialize`` copies the files of a commit's tree out of the blob storage
(whatever backend holds it) into ``<root>/<repo pk>/<commit>[-<selection>]/`` and reuses a
complete snapshot written earlier: a commit never changes, so neither does its snapshot.

The files are written into a private temporary folder beside the target, each checked against its
sha256 while it is copied, and the folder is renamed into place only when it is complete (its
manifest written last): readers never see half a snapshot, and two processes materialising the
same commit at once both end with the same complete folder. Memory use is one copy buffer,
whatever the file sizes.

Model weights come only as safetensors: pickle-based weight files (``*.bin``, ``*.pt``, ...) of
model repositories are left out, so nothing downstream can be tempted to unpickle them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from registry.choices import RepoType
from registry.models import Repo, blob_storage_key
from registry.selectors.revisions import commit_get
from registry.storage import COPY_BUFFER, blob_storage
from registry.trees import FileInfo, tree_files

# Files of model repositories that only a pickle loader reads.
PICKLE_WEIGHT_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib")
# Written last into a snapshot: its presence means the snapshot is complete (its mtime: last use).
MANIFEST = ".hub-snapshot.json"


class SnapshotCorrupt(RuntimeError):
    """A stored blob does not hash to the sha256 its tree entry records."""


def snapshot_path(*, repo: Repo, commit_oid: str, root: Path, patterns: Iterable[str] | None = None) -> Path:
    """Where the snapshot of ``repo`` at ``commit_oid`` (limited to ``patterns``) lives under ``root``."""
    name = commit_oid
    if patterns is not None:
        digest = hashlib.sha256("\n".join(sorted(patterns)).encode()).hexdigest()[:12]
        name = f"{commit_oid}-{digest}"
    return Path(root) / str(repo.pk) / name


def snapshot_files(*, repo: Repo, tree_oid: str, patterns: tuple[str, ...] | None = None) -> list[FileInfo]:
    """The files a snapshot holds: the tree's (those matching ``patterns``), less the pickle
    weights of model repositories."""
    files = tree_files(tree_oid)
    if patterns is not None:
        files = [f for f in files if any(fnmatch.fnmatchcase(f.path, pattern) for pattern in patterns)]
    if repo.type == RepoType.MODEL:
        files = [f for f in files if not PurePosixPath(f.path).name.lower().endswith(PICKLE_WEIGHT_SUFFIXES)]
    return files


def snapshot_materialize(*, repo: Repo, commit_oid: str, root: Path, patterns: Iterable[str] | None = None) -> Path:
    """The folder holding ``repo``'s files at commit ``commit_oid`` (a full 40-hex id), written now
    unless already complete. LFS files hold their content, not their pointer.

    ``patterns`` (shell-style, matched against whole repository paths, e.g. ``"*.yaml"``) limits
    the snapshot to the files they match. Raises ``RevisionNotFound`` when the commit is not in
    ``repo`` and ``SnapshotCorrupt`` when a blob's bytes do not match its recorded sha256 (nothing
    is left behind then).
    """
    wanted = tuple(patterns) if patterns is not None else None
    target = snapshot_path(repo=repo, commit_oid=commit_oid, root=root, patterns=wanted)
    if (target / MANIFEST).is_file():
        os.utime(target / MANIFEST)  # last use, for snapshot_prune
        return target
    commit = commit_get(repo=repo, oid=commit_oid)
    files = snapshot_files(repo=repo, tree_oid=commit.tree_oid, patterns=wanted)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", suffix=".partial", dir=target.parent))
    try:
        for file in files:
            destination = (scratch / file.path).resolve()
            if not destination.is_relative_to(scratch.resolve()):
                raise ValueError(f"path {file.path!r} leaves the snapshot folder")
            _copy_blob(file, destination)
        manifest = {"repo": repo.repo_id, "commit": commit_oid, "files": sorted(f.path for f in files)}
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        try:
            os.rename(scratch, target)
        except OSError:
            # Another process finished the same snapshot first, or one was left half-done.
            if not (target / MANIFEST).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _copy_blob(file: FileInfo, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with blob_storage().open(blob_storage_key(file.sha256), "rb") as source, open(destination, "wb") as sink:
        while chunk := source.read(COPY_BUFFER):
            digest.update(chunk)
            sink.write(chunk)
    if digest.hexdigest() != file.sha256:
        raise SnapshotCorrupt(f"{file.path}: stored bytes hash to {digest.hexdigest()}, the tree records {file.sha256}")


def snapshot_prune(*, root: Path, unused_for_seconds: float) -> int:
    """Remove snapshots not used for ``unused_for_seconds`` and leftovers of interrupted writes."""
    cutoff = time.time() - unused_for_seconds
    removed = 0
    root = Path(root)
    if not root.is_dir():
        return 0
    for repo_dir in root.iterdir():
        if not repo_dir.is_dir():
            continue
        for snapshot in repo_dir.iterdir():
            marker = snapshot / MANIFEST
            try:
                stale = marker.stat().st_mtime < cutoff if marker.exists() else snapshot.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue
            if stale:
                shutil.rmtree(snapshot, ignore_errors=True)
                removed += 1
    return removed
