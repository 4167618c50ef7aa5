"""Who sends the bytes of a stored file: the bucket (a presigned URL), the front proxy, or the web
process.

Every download path (``resolve`` and the raw file pages, LFS object GETs, Xet xorb ranges) checks
access first, builds its headers, then asks :func:`stored_file_response` for the body. With the
filesystem blob backend behind nginx (``HUB_ACCEL_REDIRECT_PREFIX``), the answer is an empty
response carrying ``X-Accel-Redirect``: nginx serves the file from its internal location
(``docker/nginx.conf.template``) and applies the client's ``Range`` itself, so Python never copies
file bytes. Otherwise the web process streams them (:class:`~common.streaming.RangeFileResponse`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import HttpResponse

from common.streaming import RangeFileResponse
from registry import objectstore
from registry.models import Blob
from registry.storage import blob_storage, storage_open_range
from registry.trees import FileInfo


def stored_file_response(
    key: str, *, size: int, start: int, length: int, partial: bool, content_type: str, client_range: bool
) -> HttpResponse:
    """The response whose body is ``length`` bytes from ``start`` of the stored file ``key`` (of
    ``size`` bytes): 206 with ``Content-Range`` when ``partial``, else 200.

    ``client_range`` says that those bytes are exactly what the request's own ``Range`` header (or
    its absence) asks for, so a proxy applying that header sends the same bytes; only then is the
    transfer handed off, and ``Content-Length``, ``Content-Range`` and the status are nginx's. The
    caller adds the other headers; nginx's internal location passes them on.
    """
    storage = blob_storage()
    prefix = settings.HUB_ACCEL_REDIRECT_PREFIX
    if prefix and client_range and isinstance(storage, FileSystemStorage):
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix + key
        return response
    # A ranged read: an object store sends just these bytes (no download of the whole object first).
    response = RangeFileResponse(
        lambda: storage_open_range(key, start=start, length=length), start=0, length=length,
        status=206 if partial else 200, content_type=content_type,
    )  # fmt: skip
    response["Content-Length"] = str(length)
    if partial:
        response["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    return response


def download_location(*, blob: Blob, info: FileInfo, content_type: str, disposition: str) -> str | None:
    """Where the bytes of a download come from when not from this process: the one decision of how
    a resolved file is delivered, taken after every access, gate, quarantine and disabled check.

    LFS files on an S3-compatible bucket (``HUB_S3_REDIRECT_DOWNLOADS``) go to a presigned URL of
    the bucket, which answers ``Range`` itself; None: the hub streams the bytes (regular files,
    which git clients and pages read inline, and the filesystem backend).
    """
    if info.lfs and objectstore.redirected_downloads():
        return objectstore.presigned_get(blob.storage_key, content_type=content_type, disposition=disposition)
    return None
