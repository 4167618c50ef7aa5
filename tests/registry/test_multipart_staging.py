"""Multipart LFS sessions stage the object in one file: each part is written at its offset, parts
received in order are hashed as they arrive, and the completion checks size and sha256 of the bytes
stored (reading back only what the running hash does not cover) before the file becomes the blob."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os

import pytest
from django.http import UnreadablePostError

from common.errors import Conflict, ValidationError
from registry import storage
from registry.git.objects import blob_oid
from registry.models import Blob, RepoBlob, UploadSession
from registry.services import uploads
from registry.storage import blob_open
from tests.support.hf import random_bytes

pytestmark = pytest.mark.django_db

CHUNK = 5 * 1024 * 1024
DATA = random_bytes(2 * CHUNK + 1234, seed=21)


@pytest.fixture
def session(repo, alice, settings):
    settings.HUB_MULTIPART_CHUNK_BYTES = CHUNK
    return uploads.upload_session_start(repo=repo, user=alice, sha256=hashlib.sha256(DATA).hexdigest(), size=len(DATA))


@pytest.fixture
def hashed_from(monkeypatch):
    """The offsets the completion read the staged object back from (the real function runs)."""
    starts: list[int] = []
    real = storage.hash_file_into

    def recording(path, *hashers, start=0):
        starts.append(start)
        return real(path, *hashers, start=start)

    monkeypatch.setattr(uploads, "hash_file_into", recording)
    return starts


def part(number: int, data: bytes = DATA) -> io.BytesIO:
    return io.BytesIO(data[(number - 1) * CHUNK : number * CHUNK])


def put(session, number: int, stream=None) -> str:
    return uploads.upload_session_put_part(session=session, number=number, stream=stream or part(number))


def assert_stored(session) -> None:
    blob = uploads.upload_session_complete(session=session)
    assert (blob.sha256, blob.size, blob.git_sha1) == (session.sha256, len(DATA), blob_oid(DATA))
    with blob_open(blob) as handle:
        assert handle.read() == DATA
    assert RepoBlob.objects.filter(repo=session.repo, blob=blob).exists()
    assert UploadSession.objects.get(pk=session.pk).status == "completed"
    assert not uploads._session_dir(session).exists()


def test_parts_in_order_are_hashed_as_they_arrive(session, hashed_from):
    etags = [put(session, number) for number in (1, 2, 3)]
    assert len(set(etags)) == 3
    assert uploads.upload_session_parts(session=session) == [1, 2, 3]
    assert [p.name for p in uploads._session_dir(session).iterdir() if not p.name.endswith(".done")] == ["object"]
    assert_stored(session)
    assert hashed_from == [len(DATA)]  # nothing left to read back


def test_parts_out_of_order_are_hashed_from_where_the_order_broke(session, hashed_from):
    for number in (2, 1, 3):
        put(session, number)
    assert_stored(session)
    assert hashed_from == [CHUNK]


def test_last_part_first(session, hashed_from):
    for number in (3, 2, 1):
        put(session, number)
    assert_stored(session)
    assert hashed_from == [CHUNK]


def test_a_part_of_the_wrong_size_is_refused_and_counts_as_missing(session):
    put(session, 1)
    with pytest.raises(ValidationError, match=rf"Part 2 must be {CHUNK} bytes; received more\."):
        put(session, 2, io.BytesIO(DATA[CHUNK : 2 * CHUNK + 1]))
    with pytest.raises(ValidationError, match=r"Part 3 must be 1234 bytes; received 1000\."):
        put(session, 3, io.BytesIO(DATA[2 * CHUNK : 2 * CHUNK + 1000]))
    assert uploads.upload_session_parts(session=session) == [1]
    with pytest.raises(ValidationError, match=r"is missing parts \[2, 3\]"):
        uploads.upload_session_complete(session=session)
    assert not Blob.objects.filter(sha256=hashlib.sha256(DATA).hexdigest()).exists()
    put(session, 2)
    put(session, 3)
    assert_stored(session)


class _Interrupted(io.BytesIO):
    """A body whose client goes away after ``keep`` bytes."""

    def __init__(self, data: bytes, keep: int) -> None:
        super().__init__(data[:keep])

    def read(self, size=-1):
        data = super().read(size)
        if not data:
            raise UnreadablePostError("The client went away before sending the whole body.")
        return data


def test_an_interrupted_part_leaves_no_blob_and_is_sent_again(session, hashed_from):
    put(session, 1)
    put(session, 2)
    with pytest.raises(UnreadablePostError):
        put(session, 2, _Interrupted(DATA[CHUNK : 2 * CHUNK], keep=CHUNK // 2))
    assert uploads.upload_session_parts(session=session) == [1]
    put(session, 3)
    with pytest.raises(ValidationError, match=r"is missing parts \[2\]"):
        uploads.upload_session_complete(session=session)
    assert not Blob.objects.filter(sha256=hashlib.sha256(DATA).hexdigest()).exists()
    put(session, 2)
    assert_stored(session)
    assert hashed_from == [CHUNK]  # part 2 had two attempts: its bytes are read back


def test_a_part_sent_again_with_other_bytes_is_caught(session, hashed_from):
    for number in (1, 2, 3):
        put(session, number)
    forged = bytearray(DATA)
    forged[CHUNK + 10] ^= 0xFF
    put(session, 2, part(2, bytes(forged)))
    with pytest.raises(ValidationError, match="Checksum mismatch"):
        uploads.upload_session_complete(session=session)
    assert hashed_from == [CHUNK]
    assert not Blob.objects.filter(sha256=hashlib.sha256(DATA).hexdigest()).exists()
    assert UploadSession.objects.get(pk=session.pk).status == "aborted"
    assert not uploads._session_dir(session).exists()
    with pytest.raises(Conflict, match="is aborted"):
        put(session, 1)


def test_a_wrong_object_is_refused_and_nothing_is_kept(repo, alice, settings):
    settings.HUB_MULTIPART_CHUNK_BYTES = CHUNK
    claimed = hashlib.sha256(b"other").hexdigest()
    session = uploads.upload_session_start(repo=repo, user=alice, sha256=claimed, size=len(DATA))
    for number in (1, 2, 3):
        put(session, number)
    with pytest.raises(ValidationError, match=f"hashes to {hashlib.sha256(DATA).hexdigest()}, not {claimed}"):
        uploads.upload_session_complete(session=session)
    assert not Blob.objects.filter(sha256=hashlib.sha256(DATA).hexdigest()).exists()
    assert not uploads._session_dir(session).exists()


def test_no_part_is_written_while_the_object_is_being_completed(session):
    put(session, 1)
    path = uploads._session_dir(session) / "object"
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(Conflict, match="is being completed"):
            put(session, 2)
    finally:
        os.close(fd)
    # and the completion does not start while a part is being written
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        put(session, 2)
        put(session, 3)
        with pytest.raises(Conflict, match="still being received"):
            uploads.upload_session_complete(session=session)
    finally:
        os.close(fd)
    assert_stored(session)
    with pytest.raises(Conflict, match="is completed"):
        put(session, 1)


def test_an_object_already_stored_is_linked_and_the_staging_file_dropped(session, repo, alice):
    for number in (1, 2, 3):
        put(session, number)
    first = uploads.upload_session_complete(session=session)
    again = uploads.upload_session_start(repo=repo, user=alice, sha256=session.sha256, size=len(DATA))
    assert again.pk != session.pk
    for number in (1, 2, 3):
        put(again, number)
    assert uploads.upload_session_complete(session=again) == first
    assert not uploads._session_dir(again).exists()
