"""What an S3-compatible ``blobs`` storage offers beyond Django's storage API.

Presigned URLs (downloads, single PUTs, multipart parts), multipart uploads, ranged reads,
server-side copies and the size of an object, all through the bucket of the django-storages backend
(``HUB_S3_BUCKET``, config/settings/storage.py). Every function takes storage keys as the rest of the
hub names them (``sha256/…``, ``xorbs/…``, ``staging/…``); the backend's ``location`` prefix is
applied here. With any other backend :func:`s3_storage` is None and callers keep their own path.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import BinaryIO

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.storage import Storage, storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

STAGING_PREFIX = "staging/"
# S3 refuses parts under 5 MiB (but the last) and more than 10,000 parts.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000
# The largest object one PUT may write.
MAX_PUT_BYTES = 5 * 1024**3
# The most keys one DeleteObjects request may name.
MAX_DELETE_KEYS = 1000


def s3_storage(storage: Storage | None = None) -> S3Storage | None:
    """The ``blobs`` storage when it is an S3-compatible bucket, else None."""
    storage = storage if storage is not None else storages["blobs"]
    return storage if isinstance(storage, S3Storage) else None


def direct_uploads() -> bool:
    """Whether LFS uploads go from the client straight to the bucket (presigned URLs)."""
    return settings.HUB_S3_DIRECT_UPLOADS and s3_storage() is not None


def redirected_downloads() -> bool:
    """Whether LFS downloads are answered with a redirect to a presigned bucket URL."""
    return settings.HUB_S3_REDIRECT_DOWNLOADS and s3_storage() is not None


def _key(storage: S3Storage, name: str) -> str:
    return storage._normalize_name(clean_name(name))


def _client(storage: S3Storage):
    return storage.connection.meta.client


def _presign(storage: S3Storage, operation: str, params: dict) -> str:
    params = {"Bucket": storage.bucket_name, **params}
    return _client(storage).generate_presigned_url(operation, Params=params, ExpiresIn=settings.HUB_S3_URL_SECONDS)


def presigned_get(name: str, *, content_type: str | None = None, disposition: str | None = None) -> str:
    """A URL that downloads the object for anyone holding it until it expires; the bucket answers
    with ``content_type`` and ``disposition`` when given (so browsers save files under their names)."""
    storage = s3_storage()
    params: dict = {"Key": _key(storage, name)}
    if content_type:
        params["ResponseContentType"] = content_type
    if disposition:
        params["ResponseContentDisposition"] = disposition
    return _presign(storage, "get_object", params)


def staging_key() -> str:
    """A fresh key under ``staging/`` for one direct upload (never shared by two uploaders)."""
    return f"{STAGING_PREFIX}lfs/{uuid.uuid4().hex}"


def presigned_put(name: str) -> str:
    storage = s3_storage()
    return _presign(storage, "put_object", {"Key": _key(storage, name)})


def part_size_for(size: int) -> int:
    """The part size of a multipart upload of ``size`` bytes: the configured chunk size, raised so
    that the upload stays within S3's limits."""
    chunk = max(settings.HUB_MULTIPART_CHUNK_BYTES, MIN_PART_BYTES)
    return max(chunk, -(-size // MAX_PARTS))


def multipart_start(name: str) -> str:
    """Open a multipart upload of ``name``; returns its upload id."""
    storage = s3_storage()
    answer = _client(storage).create_multipart_upload(Bucket=storage.bucket_name, Key=_key(storage, name))
    return answer["UploadId"]


def presigned_part(name: str, *, upload_id: str, number: int) -> str:
    storage = s3_storage()
    return _presign(storage, "upload_part", {"Key": _key(storage, name), "UploadId": upload_id, "PartNumber": number})


def multipart_uploaded_parts(name: str, *, upload_id: str) -> dict[int, str]:
    """Part number -> ETag of the parts the bucket has received."""
    storage = s3_storage()
    paginator = _client(storage).get_paginator("list_parts")
    parts: dict[int, str] = {}
    for page in paginator.paginate(Bucket=storage.bucket_name, Key=_key(storage, name), UploadId=upload_id):
        for part in page.get("Parts", ()):
            parts[part["PartNumber"]] = part["ETag"]
    return parts


def multipart_complete(name: str, *, upload_id: str, parts: dict[int, str]) -> None:
    storage = s3_storage()
    _client(storage).complete_multipart_upload(
        Bucket=storage.bucket_name, Key=_key(storage, name), UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts.items())]},
    )  # fmt: skip


def multipart_abort(name: str, *, upload_id: str) -> None:
    storage = s3_storage()
    _client(storage).abort_multipart_upload(Bucket=storage.bucket_name, Key=_key(storage, name), UploadId=upload_id)


def object_size(name: str) -> int | None:
    """The size of the stored object, None when there is none."""
    storage = s3_storage()
    try:
        answer = _client(storage).head_object(Bucket=storage.bucket_name, Key=_key(storage, name))
    except ClientError as error:
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return None
        raise
    return answer["ContentLength"]


def open_range(name: str, *, start: int, length: int, storage: S3Storage | None = None) -> BinaryIO:
    """A stream of ``length`` bytes of the object from ``start`` (one ranged GET; nothing spooled)."""
    storage = storage or s3_storage()
    if length <= 0:
        return _Empty()
    answer = _client(storage).get_object(
        Bucket=storage.bucket_name, Key=_key(storage, name), Range=f"bytes={start}-{start + length - 1}"
    )
    return answer["Body"]


class _Empty:
    def read(self, size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        return None


def copy(source: str, target: str) -> None:
    """Copy an object inside the bucket (server-side; multipart copies past 5 GB)."""
    storage = s3_storage()
    _client(storage).copy(
        {"Bucket": storage.bucket_name, "Key": _key(storage, source)}, storage.bucket_name, _key(storage, target),
        Config=storage.transfer_config,
    )  # fmt: skip


# --- abandoned direct uploads ----------------------------------------------------------------------
# A client that gives up between the batch answer and the verify (or completion) call leaves a
# staging object, or an incomplete multipart upload whose parts the bucket keeps (and bills) until
# it is aborted. Nothing outside ``staging/`` is ever touched here.


def staging_objects_delete(*, cutoff: datetime) -> int:
    """Delete the objects under ``staging/`` last written before ``cutoff``; returns how many."""
    storage = s3_storage()
    client = _client(storage)
    paginator = client.get_paginator("list_objects_v2")
    stale = [
        item["Key"]
        for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=_key(storage, STAGING_PREFIX))
        for item in page.get("Contents", ())
        if item["LastModified"] < cutoff
    ]
    for start in range(0, len(stale), MAX_DELETE_KEYS):
        batch = [{"Key": key} for key in stale[start : start + MAX_DELETE_KEYS]]
        answer = client.delete_objects(Bucket=storage.bucket_name, Delete={"Objects": batch, "Quiet": True})
        failed = answer.get("Errors", ())
        if failed:
            first = failed[0]
            raise RuntimeError(
                f"The bucket refused to delete {len(failed)} staging objects, {first['Key']} first: "
                f"{first.get('Code')} {first.get('Message')}"
            )
    return len(stale)


def _last_part_at(client, bucket: str, key: str, upload_id: str) -> datetime | None:
    paginator = client.get_paginator("list_parts")
    latest = None
    for page in paginator.paginate(Bucket=bucket, Key=key, UploadId=upload_id):
        for part in page.get("Parts", ()):
            latest = part["LastModified"] if latest is None else max(latest, part["LastModified"])
    return latest


def staging_multipart_abort(*, cutoff: datetime) -> int:
    """Abort the incomplete multipart uploads under ``staging/`` started before ``cutoff`` that have
    received no part since (an upload still sending parts is left alone); returns how many."""
    storage = s3_storage()
    client = _client(storage)
    paginator = client.get_paginator("list_multipart_uploads")
    aborted = 0
    for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=_key(storage, STAGING_PREFIX)):
        for upload in page.get("Uploads", ()):
            key, upload_id = upload["Key"], upload["UploadId"]
            if upload["Initiated"] >= cutoff:
                continue
            try:
                last_part = _last_part_at(client, storage.bucket_name, key, upload_id)
                if last_part is not None and last_part >= cutoff:
                    continue
                client.abort_multipart_upload(Bucket=storage.bucket_name, Key=key, UploadId=upload_id)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    continue  # completed or aborted meanwhile
                raise
            aborted += 1
    return aborted
