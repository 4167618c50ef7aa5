"""Receiving LFS objects: single-request uploads and resumable multipart sessions.

Bytes stream into staging files while hashed; an object becomes usable by a repository (a
``RepoBlob`` link) only after its sha256 and size match what was announced. Multipart sessions
keep each received part under ``UPLOAD_TEMP_DIR/sessions/<id>/`` so an interrupted upload resumes
where it stopped; nothing is visible until ``upload_session_complete``. A session that receives no
part for ``HUB_STAGING_MAX_AGE_SECONDS`` loses its parts to the staging janitor.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import Conflict, NotFound, ValidationError
from common.inputs import MAX_INT
from registry import objectstore
from registry.choices import UploadStatus
from registry.models import Blob, Repo, RepoBlob, UploadSession
from registry.services.scans import scans_queue
from registry.storage import (
    COPY_BUFFER,
    STAGING_SESSIONS,
    BlobWriter,
    blob_promote,
    stage_from_bucket,
    staging_dir,
)

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_object(*, oid: str, size) -> tuple[str, int]:
    if not isinstance(oid, str) or not SHA256.match(oid.lower()):
        raise ValidationError(f"Invalid object id {oid!r}: expected a sha256 in hex.")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_INT:
        raise ValidationError(f"Invalid size {str(size)[:40]!r} for object {oid}.")
    return oid.lower(), size


def repo_has_object(*, repo: Repo, sha256: str, size: int) -> bool:
    """True when ``repo`` already holds this object (uploaded to it or in its history)."""
    blob = Blob.objects.filter(sha256=sha256, repo_links__repo=repo).values_list("size", flat=True).first()
    if blob is None:
        return False
    if blob != size:
        raise ValidationError(f"Object {sha256} is stored with size {blob}, not {size}.")
    return True


def _link(*, repo: Repo, blob: Blob) -> None:
    RepoBlob.objects.bulk_create([RepoBlob(repo=repo, blob=blob)], ignore_conflicts=True)
    scans_queue(blobs=[blob])


def _verified(writer: BlobWriter, *, sha256: str):
    staged = writer.finish()
    if staged.sha256 != sha256:
        staged.discard()
        raise ValidationError(f"Checksum mismatch: the uploaded content hashes to {staged.sha256}, not {sha256}.")
    return staged


def lfs_object_receive(*, repo: Repo, sha256: str, size: int, stream: BinaryIO) -> Blob:
    """Receive one object in a single request; refuse a size or sha256 mismatch (nothing kept)."""
    writer = BlobWriter(expected_size=size)
    try:
        writer.write_from(stream, limit=size + 1)
    except BaseException:
        writer.abort()
        raise
    blob = blob_promote(_verified(writer, sha256=sha256))
    _link(repo=repo, blob=blob)
    return blob


def _session_dir(session: UploadSession) -> Path:
    return staging_dir() / STAGING_SESSIONS / str(session.id)


def upload_session_start(*, repo: Repo, user, sha256: str, size: int) -> UploadSession:
    """An open multipart session for this object, reusing the caller's unfinished one (resume)."""
    chunk_size = settings.HUB_MULTIPART_CHUNK_BYTES
    existing = UploadSession.objects.filter(
        repo=repo, user=user, sha256=sha256, size=size, chunk_size=chunk_size, status=UploadStatus.OPEN
    ).first()
    if existing is not None:
        return existing
    return UploadSession.objects.create(repo=repo, user=user, sha256=sha256, size=size, chunk_size=chunk_size)


def part_length(session: UploadSession, number: int) -> int:
    if not 1 <= number <= session.part_count:
        raise NotFound(f"Upload {session.id} has parts 1 to {session.part_count}, not {number}.")
    start = (number - 1) * session.chunk_size
    return min(session.chunk_size, session.size - start)


def upload_session_get(*, session_id) -> UploadSession:
    session = UploadSession.objects.select_related("repo").filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such upload.")
    return session


def upload_session_put_part(*, session: UploadSession, number: int, stream: BinaryIO) -> str:
    """Store part ``number`` (replacing an earlier attempt); returns its ETag (the part's sha256)."""
    if session.status != UploadStatus.OPEN:
        raise Conflict(f"Upload {session.id} is {session.status}.")
    expected = part_length(session, number)
    folder = _session_dir(session)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{number}.part.tmp-{os.getpid()}-{id(stream)}"
    digest = hashlib.sha256()
    received = 0
    try:
        with open(partial, "wb") as handle:
            while chunk := stream.read(min(COPY_BUFFER, expected + 1 - received)):
                received += len(chunk)
                if received > expected:
                    break
                digest.update(chunk)
                handle.write(chunk)
        if received != expected:
            raise ValidationError(f"Part {number} must be {expected} bytes; received {received}.")
        partial.replace(folder / f"{number}.part")
    finally:
        partial.unlink(missing_ok=True)
    return digest.hexdigest()


def upload_session_parts(*, session: UploadSession) -> list[int]:
    """Numbers of the parts already received, for resuming."""
    folder = _session_dir(session)
    if not folder.exists():
        return []
    return sorted(int(path.name.split(".")[0]) for path in folder.glob("*.part"))


def upload_session_complete(*, session: UploadSession) -> Blob:
    """Assemble the parts, verify the sha256 and size, and make the object usable by the repository.

    Locks the session row so two completions cannot both assemble it. A checksum mismatch aborts
    the session and removes its parts.
    """
    with transaction.atomic():
        session = UploadSession.objects.select_for_update().get(pk=session.pk)
        if session.status == UploadStatus.COMPLETED:
            return Blob.objects.get(sha256=session.sha256)
        if session.status != UploadStatus.OPEN:
            raise Conflict(f"Upload {session.id} is {session.status}.")
        missing = sorted(set(range(1, session.part_count + 1)) - set(upload_session_parts(session=session)))
        if missing:
            raise ValidationError(f"Upload {session.id} is missing parts {missing[:20]}.")
        folder = _session_dir(session)
        writer = BlobWriter(expected_size=session.size)
        try:
            for number in range(1, session.part_count + 1):
                with open(folder / f"{number}.part", "rb") as handle:
                    writer.write_from(handle)
            staged = _verified(writer, sha256=session.sha256)
        except ValidationError as error:
            writer.abort()
            mismatch = error
        else:
            mismatch = None
            blob = blob_promote(staged)
            _link(repo=session.repo, blob=blob)
            session.status = UploadStatus.COMPLETED
            session.completed_at = timezone.now()
            session.save(update_fields=["status", "completed_at"])
    shutil.rmtree(folder, ignore_errors=True)
    if mismatch is not None:
        UploadSession.objects.filter(pk=session.pk).update(status=UploadStatus.ABORTED)
        raise mismatch
    return blob


# --- direct uploads to an S3-compatible bucket (registry/objectstore.py) --------------------------
# The client PUTs the object (or its parts) to presigned URLs of a fresh staging key; the hub never
# sees the bytes until it verifies them, read back from the bucket, at the verify (basic) or
# complete (multipart) step. Only then is the object copied to its content address and linked.
# Staging objects and multipart uploads a client abandons are removed by the staging janitor
# (registry/services/staging.py) once they are older than HUB_STAGING_MAX_AGE_SECONDS.


@dataclass(frozen=True)
class DirectUpload:
    """Where a client sends one object: a staging key, and for multipart the upload id and parts."""

    key: str
    upload_id: str | None = None
    part_size: int | None = None
    part_count: int = 1


def direct_upload_start(*, sha256: str, size: int, multipart: bool) -> DirectUpload:
    key = objectstore.staging_key()
    if not multipart:
        return DirectUpload(key=key)
    part_size = objectstore.part_size_for(size)
    upload_id = objectstore.multipart_start(key)
    return DirectUpload(key=key, upload_id=upload_id, part_size=part_size, part_count=max(1, -(-size // part_size)))


def direct_upload_verify(*, repo: Repo, sha256: str, size: int, key: str) -> Blob:
    """Promote the object uploaded to ``key`` once its size and sha256 check out; link it to ``repo``.

    Idempotent: an object the repository already holds is answered as is. A mismatch raises
    ``ValidationError`` and removes the staging object, so nothing is promoted.
    """
    if repo_has_object(repo=repo, sha256=sha256, size=size):
        return Blob.objects.get(sha256=sha256)
    blob = blob_promote(stage_from_bucket(key, sha256=sha256, size=size))
    _link(repo=repo, blob=blob)
    return blob


def direct_upload_complete(*, repo: Repo, sha256: str, size: int, upload: DirectUpload) -> Blob:
    """Assemble the parts the bucket received (all of them, or refuse), then verify and promote."""
    if repo_has_object(repo=repo, sha256=sha256, size=size):
        return Blob.objects.get(sha256=sha256)
    if objectstore.object_size(upload.key) is None:
        try:
            parts = objectstore.multipart_uploaded_parts(upload.key, upload_id=upload.upload_id)
        except objectstore.ClientError:
            raise NotFound("This upload is no longer open; ask the batch API for new URLs.") from None
        missing = sorted(set(range(1, upload.part_count + 1)) - set(parts))
        if missing:
            raise ValidationError(f"The upload is missing parts {missing[:20]}.")
        try:
            objectstore.multipart_complete(upload.key, upload_id=upload.upload_id, parts=parts)
        except objectstore.ClientError as error:
            objectstore.multipart_abort(upload.key, upload_id=upload.upload_id)
            raise ValidationError(f"The bucket refused to assemble the parts: {error}") from None
    return direct_upload_verify(repo=repo, sha256=sha256, size=size, key=upload.key)
