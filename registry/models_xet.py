"""Xet storage: the server's index of uploaded xorbs and of the files shards describe (XET.md §1.7-1.10).

Xorbs and files are global, like blobs: a client reuses xorbs it uploaded weeks earlier, possibly to
another repository, without sending them again. Who may *read* a file is decided per file, through
the repository links of the blob holding its content (``RepoBlob``); xorbs themselves are never
handed out except as short-lived signed byte ranges.

Imported at the end of ``registry.models`` so Django registers these models with the app.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


def xorb_storage_key(xorb_hash: str) -> str:
    """Where a xorb's chunk records live in the ``blobs`` storage (Xet text form of the hash)."""
    return f"xorbs/{xorb_hash[:2]}/{xorb_hash[2:4]}/{xorb_hash}"


class Xorb(models.Model):
    """A verified xorb: its stored object is the uploaded chunk records, byte for byte.

    ``chunk_table`` is ``registry.xet.types.pack_chunk_table`` of its chunks (44 bytes each): hash,
    unpacked size and the record's byte range in the stored object, which is what reconstruction
    answers and file verification need. ``last_used_at`` moves whenever the xorb is uploaded again or
    a shard names it; collection waits ``HUB_XET_RETENTION_DAYS`` after it.
    """

    hash = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    unpacked_size = models.PositiveBigIntegerField()
    chunk_count = models.PositiveIntegerField()
    chunk_table = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.hash

    @property
    def storage_key(self) -> str:
        return xorb_storage_key(self.hash)


class XetFile(models.Model):
    """A file a shard described, registered only after the server rebuilt it and hashed it itself.

    ``sha256`` is therefore the hash of the content (never just the shard's claim), and the content
    is also stored as the ``Blob`` of that sha256, so every non-Xet reader works unchanged. ``terms``
    is ``registry.xet.types.pack_terms`` of the file's terms.
    """

    file_hash = models.CharField(max_length=64, unique=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    terms = models.BinaryField()
    xorbs = models.ManyToManyField(Xorb, through="XetFileXorb", related_name="files")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.file_hash


class XetFileXorb(models.Model):
    """A xorb a file's terms name: a referenced xorb cannot be deleted (``PROTECT``)."""

    file = models.ForeignKey(XetFile, on_delete=models.CASCADE, related_name="xorb_links")
    xorb = models.ForeignKey(Xorb, on_delete=models.PROTECT, related_name="file_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "xorb"], name="xet_file_xorb_unique")]

    def __str__(self) -> str:
        return f"{self.file_id} -> {self.xorb_id}"
