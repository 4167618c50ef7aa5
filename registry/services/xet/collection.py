"""Collection: files no repository can read and xorbs no file names go once unused for the retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone

from registry.models import RepoBlob
from registry.models_xet import XetFile, Xorb, xorb_storage_key
from registry.services.xet.index import _batches
from registry.xet.store import xorb_delete


@dataclass(frozen=True)
class XetCollection:
    files: int
    xorbs: int


def xet_collect(*, now: datetime | None = None) -> XetCollection:
    """Remove files no repository can read and xorbs no file names, once unused for the retention.

    A file goes when the blob of its content is linked to no repository and it was last registered
    or named by a shard ``HUB_XET_RETENTION_DAYS`` ago; its xorbs are then marked used *now*, so
    they stay a full retention period more. A xorb goes when no file names it and it was last
    uploaded or named that long ago — clients reuse xorbs from their three-week shard cache without
    sending them again. Safe to run twice, and alongside uploads: a shard touches its xorbs before
    checking them, and rows are deleted with the conditions re-checked.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HUB_XET_RETENTION_DAYS)
    linked = RepoBlob.objects.filter(blob__sha256=OuterRef("sha256"))
    stale_files = list(
        XetFile.objects.filter(last_used_at__lt=cutoff).exclude(Exists(linked)).values_list("pk", flat=True)
    )
    files = 0
    for batch in _batches(stale_files):
        with transaction.atomic():
            Xorb.objects.filter(file_links__file_id__in=batch).update(last_used_at=now)
            _, per_model = (
                XetFile.objects.filter(pk__in=batch, last_used_at__lt=cutoff).exclude(Exists(linked)).delete()
            )
            files += per_model.get(XetFile._meta.label, 0)
    xorbs = 0
    candidates = Xorb.objects.filter(last_used_at__lt=cutoff, file_links__isnull=True).values_list("pk", "hash")
    for pk, hash_hex in list(candidates):
        try:
            with transaction.atomic():
                deleted, _ = Xorb.objects.filter(pk=pk, last_used_at__lt=cutoff, file_links__isnull=True).delete()
        except (IntegrityError, ProtectedError):
            continue  # a shard named it in the meantime
        if deleted:
            xorb_delete(xorb_storage_key(hash_hex))
            xorbs += 1
    return XetCollection(files=files, xorbs=xorbs)
