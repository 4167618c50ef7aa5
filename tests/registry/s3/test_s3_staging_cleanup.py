"""The staging janitor with blobs in an S3-compatible bucket (moto's server): staging objects of
direct uploads a client abandoned are deleted and their incomplete multipart uploads aborted, once
older than the age; direct uploads still under way and promoted blobs stay.

moto answers every multipart upload with a fixed initiation date years back, so the uploads this
test keeps are the ones still receiving parts (a real bucket reports when each upload began)."""

from __future__ import annotations

import time

import httpx
import pytest

from registry import objectstore
from registry.services.staging import upload_staging_cleanup
from registry.storage import blob_promote, stage_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HOUR = 3600


def _put(url: str, data: bytes) -> None:
    answer = httpx.put(url, content=data, timeout=60)
    assert answer.status_code == 200, answer.text


def _direct_put(data: bytes) -> str:
    """A single-PUT direct upload through its presigned URL, as the client sends it."""
    key = objectstore.staging_key()
    _put(objectstore.presigned_put(key), data)
    return key


def _multipart(parts: list[bytes]) -> tuple[str, str]:
    """A multipart direct upload with ``parts`` sent to their presigned part URLs."""
    key = objectstore.staging_key()
    upload_id = objectstore.multipart_start(key)
    for number, data in enumerate(parts, start=1):
        _put(objectstore.presigned_part(key, upload_id=upload_id, number=number), data)
    return key, upload_id


def _open_uploads(s3) -> set[tuple[str, str]]:
    answer = s3.client().list_multipart_uploads(Bucket=s3.bucket)
    return {(upload["Key"], upload["UploadId"]) for upload in answer.get("Uploads", ())}


def test_abandoned_direct_uploads_go_and_uploads_under_way_stay(s3, settings):
    settings.STORAGES = s3.storages_setting(settings.STORAGES)
    outside = "notes/staging/kept.txt"  # under another folder: not a staging object
    s3.client().put_object(Bucket=s3.bucket, Key=outside, Body=b"not staging")
    promoted = blob_promote(stage_bytes(b"weights promoted before the sweep"))
    old_object = _direct_put(b"a PUT whose verify never came")
    old_parts = _multipart([b"first part of an upload given up"])
    old_empty = _multipart([])
    first_part = b"part sent before the cutoff".ljust(objectstore.MIN_PART_BYTES, b".")  # S3's smallest part
    still_sending = _multipart([first_part])
    # S3 times are whole seconds: the cutoff falls between the two groups.
    time.sleep(1.2)
    cutoff = time.time()
    time.sleep(1.2)
    _put(objectstore.presigned_part(still_sending[0], upload_id=still_sending[1], number=2), b"part sent just now")
    young_object = _direct_put(b"a PUT whose verify is on its way")
    young_parts = _multipart([b"first part of an upload under way"])

    removed = upload_staging_cleanup(older_than_seconds=HOUR, now=cutoff + HOUR)

    assert (removed.objects, removed.multipart_uploads) == (1, 2)
    keys = set(s3.keys())
    assert old_object not in keys
    assert {young_object, promoted.storage_key, outside} <= keys
    assert s3.read(promoted.storage_key) == b"weights promoted before the sweep"
    open_uploads = _open_uploads(s3)
    assert old_parts not in open_uploads
    assert old_empty not in open_uploads
    assert {still_sending, young_parts} <= open_uploads

    # The upload under way completes with both its parts.
    parts = objectstore.multipart_uploaded_parts(still_sending[0], upload_id=still_sending[1])
    objectstore.multipart_complete(still_sending[0], upload_id=still_sending[1], parts=parts)
    assert s3.read(still_sending[0]) == first_part + b"part sent just now"

    # Later, nothing of staging is left; the promoted blob and the other folder still are.
    later = upload_staging_cleanup(older_than_seconds=HOUR, now=time.time() + HOUR + 2)
    assert (later.objects, later.multipart_uploads) == (2, 1)
    assert s3.keys("staging/") == []
    assert _open_uploads(s3) == set()
    assert {promoted.storage_key, outside} <= set(s3.keys())


def test_the_bucket_prefix_bounds_the_sweep(s3, settings):
    storages = s3.storages_setting(settings.STORAGES)
    storages["blobs"]["OPTIONS"]["location"] = "hub"
    settings.STORAGES = storages
    foreign = "staging/lfs/of-another-application"  # same bucket, outside HUB_S3_PREFIX
    s3.client().put_object(Bucket=s3.bucket, Key=foreign, Body=b"not ours")
    ours = _direct_put(b"abandoned under the prefix")
    assert f"hub/{ours}" in s3.keys("hub/")

    removed = upload_staging_cleanup(older_than_seconds=HOUR, now=time.time() + HOUR + 2)

    assert removed.objects == 1
    assert s3.keys("hub/staging/") == []
    assert s3.read(foreign) == b"not ours"
    s3.client().delete_object(Bucket=s3.bucket, Key=foreign)
