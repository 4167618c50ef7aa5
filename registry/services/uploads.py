"""Receiving LFS objects: single-request uploads and resumable multipart sessions.

Bytes stream into staging files while hashed; an object becomes usable by a repository (a
``RepoBlob`` link) only after its sha256 and size match what was announced. Multipart sessions
write each received part at its offset in one staging file under ``UPLOAD_TEMP_DIR/sessions/<id>/``
so an interrupted upload resumes where it stopped; nothing is visible until
``upload_session_complete``, which moves that file to the object's content address. A session that
receives no part for ``HUB_STAGING_MAX_AGE_SECONDS`` loses its staged bytes to the staging janitor.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.asgi import read_chunk
from common.errors import Conflict, NotFound, ValidationError
from common.inputs import MAX_INT
from registry import objectstore
from registry.choices import UploadStatus
from registry.git.objects import blob_hasher
from registry.models import Blob, Repo, RepoBlob, UploadSession
from registry.services.scans import scans_queue
from registry.storage import (
    COPY_BUFFER,
    STAGING_SESSIONS,
    BlobWriter,
    StagedBlob,
    blob_promote,
    hash_file_into,
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


# A multipart session stages its object in one file, ``<session dir>/object``: each part is written
# at its offset as it arrives, so the object is written once and completing it moves that file into
# place. A part attempt leaves a marker ``<number>.<token>.attempt`` before its first byte, renamed
# to ``<number>.<token>.done`` once all its bytes are written; a failed attempt removes the part's
# ``.done`` markers (its range may now be half rewritten), so the part counts as missing again.
#
# Writers hold a shared ``flock`` on the object file, the completion an exclusive one (neither
# waits: a busy file is a ``Conflict``), so nothing writes into the file once it is being verified or
# after it has moved to its content address.
#
# Parts that arrive in order are hashed (sha256 and the git blob id) as they are written, in this
# process; the completion hashes only the rest of the file. The running hashes cover the leading
# parts that were received by exactly one attempt, the one hashed: from the first part with a retry
# (in any process) or received out of order, the completion reads the bytes back, so the sha256
# checked is always that of the bytes stored.


@dataclass
class _RunningHash:
    """The sha256 and git blob id after each of an upload's first parts (``hashed[k]``: parts 1 to
    ``k``), and the attempt each of those parts was received by."""

    hashed: list[tuple]
    tokens: dict[int, str] = field(default_factory=dict)


_RUNNING_LIMIT = 256
_running: dict[str, _RunningHash] = {}
_running_lock = threading.Lock()


def _running_begin(session: UploadSession, number: int) -> tuple | None:
    """Copies of the running hashers when part ``number`` is the next one, else None."""
    key = str(session.id)
    with _running_lock:
        state = _running.get(key)
        if state is None and number == 1:
            while len(_running) >= _RUNNING_LIMIT:
                _running.pop(next(iter(_running)))
            state = _running[key] = _RunningHash(hashed=[(hashlib.sha256(), blob_hasher(session.size))])
        if state is None or len(state.hashed) != number:
            return None
        return tuple(hasher.copy() for hasher in state.hashed[-1])


def _running_commit(session: UploadSession, number: int, token: str, hashers: tuple) -> None:
    with _running_lock:
        state = _running.get(str(session.id))
        if state is not None and len(state.hashed) == number:
            state.hashed.append(hashers)
            state.tokens[number] = token


def _running_take(session: UploadSession, markers: list[str]) -> tuple:
    """The hashers and the offset where hashing goes on: the running hashes of the leading parts
    this process received in order and whose markers show no other attempt; else from zero."""
    with _running_lock:
        state = _running.pop(str(session.id), None)
    if state is None:
        return hashlib.sha256(), blob_hasher(session.size), 0
    attempts: dict[int, list[str]] = {}
    for name in markers:
        attempts.setdefault(int(name.split(".", 1)[0]), []).append(name)
    trusted = 0
    while trusted + 1 < len(state.hashed) and attempts.get(trusted + 1) == [
        f"{trusted + 1}.{state.tokens[trusted + 1]}.done"
    ]:
        trusted += 1
    sha256, sha1 = state.hashed[trusted]
    return sha256, sha1, min(trusted * session.chunk_size, session.size)


def _object_path(folder: Path) -> Path:
    return folder / "object"


def _lock(fd: int, mode: int, busy: str) -> None:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        raise Conflict(busy) from None


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


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
    """Write part ``number`` at its offset in the session's staging file (replacing an earlier
    attempt); returns its ETag. A part of the wrong size is refused and counts as not received."""
    status = UploadSession.objects.filter(pk=session.pk).values_list("status", flat=True).first()
    if status != UploadStatus.OPEN:
        raise Conflict(f"Upload {session.id} is {status or 'gone'}.")
    expected = part_length(session, number)
    offset = (number - 1) * session.chunk_size
    folder = _session_dir(session)
    folder.mkdir(parents=True, exist_ok=True)
    path = _object_path(folder)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:  # completed (its folder removed) meanwhile
        raise Conflict(f"Upload {session.id} is no longer open.") from None
    try:
        _lock(fd, fcntl.LOCK_SH, f"Upload {session.id} is being completed.")
        if not path.exists() or os.stat(path).st_ino != os.fstat(fd).st_ino:  # moved to its address
            raise Conflict(f"Upload {session.id} is no longer open.")
        token = secrets.token_hex(8)
        attempt = folder / f"{number}.{token}.attempt"
        attempt.touch(exist_ok=False)
        hashers = _running_begin(session, number)
        received = 0
        try:
            while chunk := read_chunk(stream, min(COPY_BUFFER, expected + 1 - received)):
                if received + len(chunk) > expected:
                    raise ValidationError(f"Part {number} must be {expected} bytes; received more.")
                if hashers is not None:
                    for hasher in hashers:
                        hasher.update(chunk)
                _write_all(fd, chunk, offset + received)
                received += len(chunk)
            if received != expected:
                raise ValidationError(f"Part {number} must be {expected} bytes; received {received}.")
        except BaseException:
            for done in folder.glob(f"{number}.*.done"):
                done.unlink(missing_ok=True)
            raise
        attempt.rename(folder / f"{number}.{token}.done")
        if hashers is not None:
            _running_commit(session, number, token, hashers)
    finally:
        os.close(fd)
    return f"{number}-{token}"


def _markers(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return [path.name for path in folder.iterdir() if path.name.endswith((".done", ".attempt"))]


def upload_session_parts(*, session: UploadSession) -> list[int]:
    """Numbers of the parts already received, for resuming."""
    return sorted({int(name.split(".", 1)[0]) for name in _markers(_session_dir(session)) if name.endswith(".done")})


def _staged_object(session: UploadSession, path: Path, fd: int) -> StagedBlob:
    """The session's object once every part is in: its size and sha256 checked (the hashing goes on
    from where the parts received in order left it). Raises ``ValidationError`` on a mismatch."""
    size = os.fstat(fd).st_size
    if size != session.size:
        raise ValidationError(f"Received {size} bytes, but the declared size is {session.size}.")
    sha256, sha1, start = _running_take(session, _markers(path.parent))
    hash_file_into(path, sha256, sha1, start=start)
    if sha256.hexdigest() != session.sha256:
        raise ValidationError(
            f"Checksum mismatch: the uploaded content hashes to {sha256.hexdigest()}, not {session.sha256}."
        )
    return StagedBlob(path=path, size=size, sha256=session.sha256, git_sha1=sha1.hexdigest())


def upload_session_complete(*, session: UploadSession) -> Blob:
    """Verify the sha256 and size of the assembled parts and make the object usable by the
    repository; the staging file becomes the stored blob.

    Locks the session row so two completions cannot both promote it. A checksum mismatch aborts
    the session and removes its parts.
    """
    folder = _session_dir(session)
    path = _object_path(folder)
    fd = None
    try:
        with transaction.atomic():
            session = UploadSession.objects.select_for_update().get(pk=session.pk)
            if session.status == UploadStatus.COMPLETED:
                return Blob.objects.get(sha256=session.sha256)
            if session.status != UploadStatus.OPEN:
                raise Conflict(f"Upload {session.id} is {session.status}.")
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                fd = None
            if fd is not None:
                _lock(fd, fcntl.LOCK_EX, f"A part of upload {session.id} is still being received.")
            received = upload_session_parts(session=session) if fd is not None else []
            missing = sorted(set(range(1, session.part_count + 1)) - set(received))
            if missing:
                raise ValidationError(f"Upload {session.id} is missing parts {missing[:20]}.")
            try:
                staged = _staged_object(session, path, fd)
            except ValidationError as error:
                mismatch = error
            else:
                mismatch = None
                blob = blob_promote(staged)
                _link(repo=session.repo, blob=blob)
                session.status = UploadStatus.COMPLETED
                session.completed_at = timezone.now()
                session.save(update_fields=["status", "completed_at"])
    finally:
        if fd is not None:
            os.close(fd)
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
