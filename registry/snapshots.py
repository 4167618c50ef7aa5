"""Repository snapshots on local disk: the files of one commit, for processes that need a directory.

Training and evaluation runs, the inference engine and conversions read models and datasets as
plain directories. ``snapshot_materialize`` writes the files of a commit's tree from the blob
storage (whatever backend holds it) into ``<root>/<repo pk>/<commit>[-<selection>]/`` and reuses a
complete snapshot written earlier: a commit never changes, so neither does its snapshot.

A snapshot is written into a temporary sibling folder and renamed into place once every file is
there, so a reader never sees half of one, and two processes materialising the same commit at once
both end up with the same complete folder. Memory use is one copy buffer whatever the file sizes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from registry.models import GitCommit, Repo, blob_storage_key
from registry.storage import COPY_BUFFER, blob_storage
from registry.trees import FileInfo, tree_files

COMPLETE_MARKER = ".snapshot-complete"


def _selected(files: list[FileInfo], patterns: tuple[str, ...] | None) -> list[FileInfo]:
    if patterns is None:
        return files
    return [f for f in files if any(fnmatch.fnmatchcase(f.path, pattern) for pattern in patterns)]


def snapshot_dir(*, repo: Repo, commit_oid: str, root: Path, patterns: Iterable[str] | None = None) -> Path:
    """Where the snapshot of ``repo`` at ``commit_oid`` (limited to ``patterns``) lives under ``root``."""
    name = commit_oid
    if patterns is not None:
        digest = hashlib.sha256("\n".join(sorted(patterns)).encode()).hexdigest()[:12]
        name = f"{commit_oid}-{digest}"
    return Path(root) / str(repo.pk) / name


def snapshot_materialize(*, repo: Repo, commit_oid: str, root: Path, patterns: Iterable[str] | None = None) -> Path:
    """The directory holding the files of ``repo`` at commit ``commit_oid`` (a full 40-hex id).

    ``patterns`` (shell-style, matched against whole repository paths, e.g. ``"*.yaml"``) limits
    the snapshot to the files they match. LFS files hold their content, not their pointer.
    """
    wanted = tuple(patterns) if patterns is not None else None
    target = snapshot_dir(repo=repo, commit_oid=commit_oid, root=root, patterns=wanted)
    if (target / COMPLETE_MARKER).is_file():
        os.utime(target / COMPLETE_MARKER)  # last use, for snapshot_prune
        return target
    commit = GitCommit.objects.get(repo=repo, oid=commit_oid)
    files = _selected(tree_files(commit.tree_oid), wanted)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.{uuid.uuid4().hex}.partial"
    storage = blob_storage()
    try:
        for info in files:
            destination = (partial / info.path).resolve()
            if not destination.is_relative_to(partial.resolve()):
                raise ValueError(f"path {info.path!r} leaves the snapshot folder")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(blob_storage_key(info.sha256), "rb") as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink, COPY_BUFFER)
        partial.mkdir(parents=True, exist_ok=True)
        (partial / COMPLETE_MARKER).write_text(f"{repo.repo_id}@{commit_oid}\n")
        try:
            os.rename(partial, target)
        except OSError:
            # Someone else finished the same snapshot first (or left a broken one behind).
            if not (target / COMPLETE_MARKER).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(partial, target)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return target


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
            marker = snapshot / COMPLETE_MARKER
            try:
                stale = marker.stat().st_mtime < cutoff if marker.exists() else snapshot.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue
            if stale:
                shutil.rmtree(snapshot, ignore_errors=True)
                removed += 1
    return removed
