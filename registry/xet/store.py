"""Xorb objects in the ``blobs`` storage: spool, save, read byte ranges, hand out fetch URLs.

The Django side of the pure core: everything goes through Django's storage API, so the local
filesystem of the embedded default and an S3-compatible store behave the same. A stored xorb is the
uploaded chunk records byte for byte (no footer), so a chunk table's byte ranges index straight into
it and a ``Range`` read returns whole records.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import Storage

from registry.models_xet import xorb_storage_key
from registry.storage import blob_storage, staging_dir, storage_open_range

from .hashing import hash_to_hex


class _SpoolFile(File):
    """A spooled xorb that Django's filesystem storage can move into place instead of copying."""

    def __init__(self, path: Path) -> None:
        super().__init__(open(path, "rb"), name=path.name)  # noqa: SIM115 (closed by the caller)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


class XorbSpool:
    """A staging file the parser copies a xorb's records into while it verifies them.

    Use as a context manager: the staging file is removed on exit whatever happened (after a
    successful :meth:`save` the storage has usually moved it away already).
    """

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="xorb-", suffix=".part", dir=staging_dir())
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "wb")

    def __enter__(self) -> XorbSpool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.file.closed:
            self.file.close()
        self.path.unlink(missing_ok=True)

    def save(self, key: str) -> None:
        """Store the spooled records under ``key`` (replacing nothing: content-addressed)."""
        self.file.close()
        storage = blob_storage()
        if storage.exists(key):
            return
        spooled = _SpoolFile(self.path)
        try:
            storage.save(key, spooled)
        finally:
            spooled.close()


def xorb_open(key: str) -> BinaryIO:
    return blob_storage().open(key, "rb")


def xorb_open_range(xorb_hash: bytes, start: int, end: int) -> BinaryIO:
    """Bytes ``start..end - 1`` of the stored xorb with raw hash ``xorb_hash`` (``XorbRangeOpener``)."""
    return storage_open_range(xorb_storage_key(hash_to_hex(xorb_hash)), start=start, length=end - start)


def xorb_exists_in_storage(key: str) -> bool:
    return blob_storage().exists(key)


def xorb_delete(key: str) -> None:
    blob_storage().delete(key)


def presigned_url(storage: Storage, key: str, *, expire: int) -> str | None:
    """A self-authorising URL straight to the object store, when the backend can sign one.

    S3-compatible backends (``storages.backends.s3.S3Storage``) take ``expire``; the filesystem
    backend does not, and then the hub serves the bytes itself through a signed URL.
    """
    try:
        parameters = inspect.signature(storage.url).parameters
    except (TypeError, ValueError):
        return None
    if "expire" not in parameters:
        return None
    return storage.url(key, expire=expire)
