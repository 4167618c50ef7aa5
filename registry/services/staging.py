"""The staging janitor: what abandoned uploads leave behind, removed once it is old enough.

Uploads are staged before they are verified and promoted to their content address: files in
``UPLOAD_TEMP_DIR`` (LFS objects and resumable sessions' parts, pushed packs and files, Xet xorbs
being parsed) and, with direct uploads to an S3-compatible bucket, objects and multipart uploads
under the bucket's ``staging/`` prefix. A client that gives up leaves them there. Every entry older
than the age (``HUB_STAGING_MAX_AGE_SECONDS`` by default, from its last change: a file still being
written, a session or multipart upload still receiving parts, is younger) is removed; promoted
blobs, xorbs and shards live outside staging and are never looked at. Run hourly by beat
(``registry.tasks.staging_janitor``) and by ``manage.py staging_cleanup``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from registry import objectstore
from registry.storage import staging_cleanup


@dataclass(frozen=True)
class StagingCleanup:
    """What one sweep removed."""

    files: int  # files and folders in UPLOAD_TEMP_DIR
    objects: int  # staging objects in the bucket
    multipart_uploads: int  # incomplete multipart uploads aborted

    @property
    def total(self) -> int:
        return self.files + self.objects + self.multipart_uploads


def upload_staging_cleanup(*, older_than_seconds: float, now: float | None = None) -> StagingCleanup:
    """Remove staging entries unchanged for ``older_than_seconds`` before ``now`` (a Unix time; the
    current time when omitted): on the filesystem always, in the bucket when blobs live in one."""
    if older_than_seconds < 0:
        raise ValueError(f"The age must be zero or more seconds, not {older_than_seconds}.")
    cutoff = (time.time() if now is None else now) - older_than_seconds
    files = staging_cleanup(cutoff=cutoff)
    if objectstore.s3_storage() is None:
        return StagingCleanup(files=files, objects=0, multipart_uploads=0)
    when = datetime.fromtimestamp(cutoff, tz=UTC)
    aborted = objectstore.staging_multipart_abort(cutoff=when)
    deleted = objectstore.staging_objects_delete(cutoff=when)
    return StagingCleanup(files=files, objects=deleted, multipart_uploads=aborted)
