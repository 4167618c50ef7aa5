"""Blob storage: stream content to a staging file while hashing, promote it only once verified.

Content goes through Django's storage API (the ``blobs`` alias in ``STORAGES``), so the local
filesystem of the embedded default and an S3-compatible store behave the same. Staging files live
in ``UPLOAD_TEMP_DIR``; an interrupted upload leaves only a staging file, which nothing references
and the janitor (``registry.services.staging``) removes. Memory use is one buffer, whatever
the size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import IntegrityError, transaction

from common.asgi import read_chunk
from common.errors import ValidationError
from registry import objectstore
from registry.git.objects import blob_hasher, blob_oid, lfs_pointer
from registry.models import Blob, blob_storage_key

logger = logging.getLogger(__name__)

COPY_BUFFER = 1024 * 1024
# The folder of the staging folder that holds one folder per resumable upload session.
STAGING_SESSIONS = "sessions"


def blob_storage() -> Storage:
    return storages["blobs"]


def staging_dir() -> Path:
    path = Path(settings.UPLOAD_TEMP_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class StagedBlob:
    """Verified content in a staging file (or, when small, in ``data``; or, uploaded straight to the
    bucket, in the staging object ``storage_key``), not yet visible to anyone."""

    path: Path | None
    size: int
    sha256: str
    git_sha1: str
    data: bytes | None = None
    storage_key: str | None = None

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        if self.storage_key is not None:
            blob_storage().delete(self.storage_key)

    def read(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()


def stage_in_memory(data: bytes) -> StagedBlob:
    """Stage small content without a file (many small files of a push: a file each costs more
    than the content)."""
    return StagedBlob(
        path=None, size=len(data), sha256=hashlib.sha256(data).hexdigest(), git_sha1=blob_oid(data), data=data
    )


class _StagedFile(File):
    """A staged file Django's filesystem storage can move into place instead of copying."""

    def __init__(self, staged: StagedBlob) -> None:
        # Closed by the storage backend once the file is saved.
        super().__init__(open(staged.path, "rb"), name=staged.path.name)  # noqa: SIM115
        self._staged = staged

    def temporary_file_path(self) -> str:
        return str(self._staged.path)


class BlobWriter:
    """Write content to a staging file, hashing it on the way.

    ``expected_size`` lets the git blob id be computed in the same pass (git hashes the size
    first); without it the staging file is read once more at the end.
    """

    def __init__(self, *, expected_size: int | None = None, max_size: int | None = None) -> None:
        fd, name = tempfile.mkstemp(prefix="blob-", suffix=".part", dir=staging_dir())
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._sha256 = hashlib.sha256()
        self._sha1 = blob_hasher(expected_size) if expected_size is not None else None
        self.expected_size = expected_size
        self.max_size = max_size
        self.size = 0
        self._closed = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.expected_size is not None and self.size > self.expected_size:
            raise ValidationError(f"More bytes than the declared size of {self.expected_size}.")
        if self.max_size is not None and self.size > self.max_size:
            raise ValidationError(f"The content exceeds the limit of {self.max_size} bytes.")
        self._sha256.update(data)
        if self._sha1 is not None:
            self._sha1.update(data)
        self._file.write(data)

    def write_from(self, stream: BinaryIO, *, limit: int | None = None) -> None:
        """Copy ``stream`` (up to ``limit`` bytes) into the blob."""
        remaining = limit
        while remaining is None or remaining > 0:
            chunk = read_chunk(stream, COPY_BUFFER if remaining is None else min(COPY_BUFFER, remaining))
            if not chunk:
                break
            self.write(chunk)
            if remaining is not None:
                remaining -= len(chunk)

    def finish(self) -> StagedBlob:
        self._file.close()
        self._closed = True
        if self.expected_size is not None and self.size != self.expected_size:
            self.abort()
            raise ValidationError(f"Received {self.size} bytes, but the declared size is {self.expected_size}.")
        if self._sha1 is None:
            sha1 = blob_hasher(self.size)
            hash_file_into(self.path, sha1)
        else:
            sha1 = self._sha1
        return StagedBlob(path=self.path, size=self.size, sha256=self._sha256.hexdigest(), git_sha1=sha1.hexdigest())

    def abort(self) -> None:
        if not self._closed:
            self._file.close()
            self._closed = True
        self.path.unlink(missing_ok=True)


def hash_file_into(path: Path, *hashers, start: int = 0) -> int:
    """Feed the bytes of ``path`` from ``start`` to its end to every hasher, in one read pass;
    returns how many bytes were read."""
    buffer = bytearray(COPY_BUFFER)
    view = memoryview(buffer)
    read = 0
    with open(path, "rb", buffering=0) as handle:
        handle.seek(start)
        while count := handle.readinto(buffer):
            for hasher in hashers:
                hasher.update(view[:count])
            read += count
    return read


def stage_bytes(data: bytes) -> StagedBlob:
    writer = BlobWriter(expected_size=len(data))
    writer.write(data)
    return writer.finish()


def _store(staged: StagedBlob) -> None:
    """Move staged content to its content address, unless it is already there."""
    storage = blob_storage()
    key = blob_storage_key(staged.sha256)
    if staged.storage_key is not None:
        if not storage.exists(key):
            objectstore.copy(staged.storage_key, key)
    elif not storage.exists(key) and staged.data is not None:
        storage.save(key, ContentFile(staged.data))
    elif not storage.exists(key):
        staged_file = _StagedFile(staged)
        try:
            storage.save(key, staged_file)
        finally:
            staged_file.close()


def _blob_fields(staged: StagedBlob) -> dict:
    pointer_oid = blob_oid(lfs_pointer(sha256=staged.sha256, size=staged.size))
    return {"sha256": staged.sha256, "git_sha1": staged.git_sha1, "size": staged.size, "pointer_oid": pointer_oid}


def blob_promote(staged: StagedBlob) -> Blob:
    """Make staged content permanent under its sha256 and record it; idempotent and race-safe.

    The storage object is written before the row, so a ``Blob`` row always has its bytes.
    """
    existing = Blob.objects.filter(sha256=staged.sha256).first()
    if existing is not None:
        staged.discard()
        return existing
    _store(staged)
    staged.discard()
    try:
        with transaction.atomic():
            return Blob.objects.create(**_blob_fields(staged))
    except IntegrityError:
        return Blob.objects.get(sha256=staged.sha256)


def blobs_promote(staged: list[StagedBlob]) -> dict[str, Blob]:
    """:func:`blob_promote` for many blobs with a fixed number of queries; sha256 -> row."""
    by_sha = {item.sha256: item for item in staged}
    existing = {blob.sha256: blob for blob in Blob.objects.filter(sha256__in=list(by_sha))}
    new_rows = []
    for sha256, item in by_sha.items():
        if sha256 not in existing:
            _store(item)
            new_rows.append(Blob(**_blob_fields(item)))
    for item in staged:
        item.discard()
    Blob.objects.bulk_create(new_rows, ignore_conflicts=True, batch_size=500)
    if new_rows:
        existing.update({blob.sha256: blob for blob in Blob.objects.filter(sha256__in=[r.sha256 for r in new_rows])})
    return existing


def blob_open(blob: Blob) -> BinaryIO:
    return blob_storage().open(blob.storage_key, "rb")


class _RangeReader:
    """Reads at most ``length`` bytes of an open storage file from its current position."""

    def __init__(self, handle: BinaryIO, length: int) -> None:
        self._handle = handle
        self._remaining = length

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        data = self._handle.read(size)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> _RangeReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def storage_open_range(key: str, *, start: int, length: int) -> BinaryIO:
    """A stream of ``length`` bytes of the stored object ``key`` from ``start``: one ranged GET on a
    bucket (nothing spooled: Django's S3 file would fetch the whole object first), a seek on a file."""
    if objectstore.s3_storage() is not None:
        return objectstore.open_range(key, start=start, length=length)
    handle = blob_storage().open(key, "rb")
    try:
        handle.seek(start)
    except BaseException:
        handle.close()
        raise
    return _RangeReader(handle, length)


def blob_read_range(blob: Blob, *, start: int, length: int, chunk_size: int = COPY_BUFFER) -> Iterator[bytes]:
    """Yield ``length`` bytes of ``blob`` from ``start``, one buffer at a time."""
    with storage_open_range(blob.storage_key, start=start, length=length) as handle:
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(chunk_size, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def stage_from_bucket(key: str, *, sha256: str, size: int) -> StagedBlob:
    """Verify an object a client uploaded straight to the bucket's staging key ``key``: its size and
    sha256 must be ``size`` and ``sha256``, read back from the bucket here (the client's word is not
    taken). Raises ``ValidationError`` and deletes the staging object otherwise."""
    stored = objectstore.object_size(key)
    if stored is None:
        raise ValidationError(f"Object {sha256} was not received; upload it again.")
    if stored != size:
        blob_storage().delete(key)
        raise ValidationError(f"Received {stored} bytes, but the declared size is {size}; upload it again.")
    digest, sha1 = hashlib.sha256(), blob_hasher(size)
    with storage_open_range(key, start=0, length=size) as handle:
        while chunk := handle.read(COPY_BUFFER):
            digest.update(chunk)
            sha1.update(chunk)
    if digest.hexdigest() != sha256:
        blob_storage().delete(key)
        raise ValidationError(
            f"Checksum mismatch: the uploaded content hashes to {digest.hexdigest()}, not {sha256}; upload it again."
        )
    return StagedBlob(path=None, size=size, sha256=sha256, git_sha1=sha1.hexdigest(), storage_key=key)


def _newest_change(path: Path) -> float:
    """The latest modification time of ``path`` and, for a folder, of everything below it."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for child in path.rglob("*"):
            try:
                newest = max(newest, child.lstat().st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _staging_entries(root: Path) -> Iterator[Path]:
    """What the janitor judges as one: each file and folder of the staging folder, and each resumable
    session's folder (its parts come and go together)."""
    for entry in root.iterdir():
        if entry.name == STAGING_SESSIONS and entry.is_dir() and not entry.is_symlink():
            yield from entry.iterdir()
        else:
            yield entry


def _check_blobs_outside(root: Path) -> None:
    """Refuse to sweep a staging folder that holds the stored blobs (the two settings point at one folder)."""
    storage = blob_storage()
    if not isinstance(storage, FileSystemStorage):
        return
    blobs, staging = Path(storage.location).resolve(), root.resolve()
    if blobs == staging or staging in blobs.parents:
        raise ImproperlyConfigured(
            f"The blob folder {blobs} (HUB_BLOB_ROOT) lies in the staging folder {staging} (HUB_UPLOAD_TEMP_DIR): "
            "the staging janitor would delete stored blobs. Give them separate folders."
        )


def staging_cleanup(*, cutoff: float) -> int:
    """Remove the staging files and folders of uploads abandoned before ``cutoff`` (a Unix time);
    returns how many were removed.

    A folder (a resumable session's parts, a scan's or a conversion's scratch folder) goes as a
    whole, and only when nothing in it changed since ``cutoff``: an upload still writing, or a
    session still receiving parts, keeps all of its files. Stored blobs are never under this folder.
    """
    root = staging_dir()
    _check_blobs_outside(root)
    removed = 0
    for entry in list(_staging_entries(root)):
        try:
            if _newest_change(entry) >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile (an upload finishing)
        except OSError:
            logger.warning("could not remove the staging entry %s", entry, exc_info=True)
            continue
        removed += 1
    return removed


def stage_file(path: Path) -> StagedBlob:
    """Stage a copy of a file on disk (publishing a training run's output, seeding demo content)."""
    writer = BlobWriter(expected_size=path.stat().st_size)
    try:
        with open(path, "rb") as handle:
            writer.write_from(handle)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()
