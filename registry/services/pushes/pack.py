"""Receiving a push's pack: into a staging file, then sorted into commits, trees, regular files
(staged, in memory when small) and LFS pointers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from registry.git.objects import lfs_pointer_parse
from registry.git.packs import (
    BLOB,
    COMMIT,
    TREE,
    PackError,
    PushedCommit,
    commit_parse,
    pack_objects,
    pack_receive,
    tree_parse,
)
from registry.storage import BlobWriter, StagedBlob, stage_in_memory, staging_dir

# Pushed files up to this size wait in memory rather than in a staging file, up to the budget.
IN_MEMORY_BLOB = 256 * 1024
IN_MEMORY_BUDGET = 64 * 1024 * 1024


@dataclass
class PushStream:
    """Where the pack comes from: ``read`` blocks for the bytes asked, ``read_some`` may return fewer."""

    read: Callable[[int], bytes]
    read_some: Callable[[int], bytes] | None = None


@dataclass(frozen=True)
class FileMeta:
    """What a tree entry records about a file besides its id."""

    size: int
    sha256: str
    lfs: bool


@dataclass
class Received:
    """The objects of a pushed pack: regular file contents wait in staging files."""

    commits: dict[str, PushedCommit] = field(default_factory=dict)
    trees: dict[str, list] = field(default_factory=dict)
    staged: dict[str, StagedBlob] = field(default_factory=dict)
    pointers: dict[str, FileMeta] = field(default_factory=dict)
    in_memory: int = 0  # bytes of ``staged`` held in memory

    def discard(self) -> None:
        for staged in self.staged.values():
            staged.discard()

    def blob_meta(self, oid: str) -> FileMeta | None:
        if oid in self.pointers:
            return self.pointers[oid]
        staged = self.staged.get(oid)
        return None if staged is None else FileMeta(size=staged.size, sha256=staged.sha256, lfs=False)


def pack_read(stream: PushStream, progress: Callable[[str], None]) -> Received:
    """Receive the pack into a staging file and sort its objects; regular files go to staging."""
    received = Received()
    fd, name = tempfile.mkstemp(prefix="push-", suffix=".pack", dir=staging_dir())
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            pack_receive(
                read=stream.read, read_some=stream.read_some, out=out, max_bytes=settings.HUB_GIT_MAX_PUSH_BYTES
            )
        for type_num, oid, chunks in pack_objects(path):
            if type_num == COMMIT:
                received.commits[oid] = commit_parse(oid, b"".join(chunks))
            elif type_num == TREE:
                received.trees[oid] = tree_parse(oid, b"".join(chunks))
            elif type_num == BLOB:
                _blob_receive(received, oid, chunks)
            else:
                raise PackError("Annotated tags are not supported: push lightweight tags (git tag NAME).")
        progress(
            f"Received {len(received.commits)} commits, {len(received.trees)} trees and "
            f"{len(received.staged) + len(received.pointers)} files."
        )
        return received
    except BaseException:
        received.discard()
        raise
    finally:
        path.unlink(missing_ok=True)


def _blob_receive(received: Received, oid: str, chunks: list[bytes]) -> None:
    size = sum(len(chunk) for chunk in chunks)
    pointer = lfs_pointer_parse(b"".join(chunks)) if size <= 200 else None
    if pointer is not None:
        received.pointers[oid] = FileMeta(size=pointer[1], sha256=pointer[0], lfs=True)
        return
    if size <= IN_MEMORY_BLOB and received.in_memory + size <= IN_MEMORY_BUDGET:
        staged = stage_in_memory(b"".join(chunks))
        received.in_memory += size
    else:
        staged = _stage_file(chunks, size)
    if staged.git_sha1 != oid:
        staged.discard()
        raise PackError(f"Blob {oid} does not hash to its id.")
    received.staged[oid] = staged


def _stage_file(chunks: list[bytes], size: int) -> StagedBlob:
    writer = BlobWriter(expected_size=size)
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def stream_drain(stream: PushStream) -> None:
    while stream.read_some(65536) if stream.read_some else stream.read(65536):
        pass
