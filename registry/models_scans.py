"""Malware scans of blobs, owners' releases of quarantined files, conversions to safetensors.

A scan belongs to the content (``Blob``), scanned once however many repositories hold it; a
release belongs to one repository: its owner vouches for the file there, not elsewhere.

Imported at the end of ``registry.models`` so Django registers these models with the app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.choices import ConversionStatus, ScanStatus


class BlobScan(models.Model):
    """The scan of one blob: ``findings`` lists the pickle imports (module, name, safety, archive
    member), ``issues`` what else was seen (archive bombs, oversized headers). ``hint`` is a file
    name the content was committed under (pickles of protocol 0 have no magic bytes)."""

    blob = models.OneToOneField("registry.Blob", on_delete=models.CASCADE, related_name="scan")
    state = models.CharField(max_length=10, choices=ScanStatus.choices, default=ScanStatus.PENDING, db_index=True)
    kind = models.CharField(max_length=16, blank=True)
    hint = models.CharField(max_length=255, blank=True)
    scanner = models.CharField(max_length=64, blank=True)
    scanner_version = models.CharField(max_length=64, blank=True)
    findings = models.JSONField(default=list, blank=True)
    issues = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    scanned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"scan of {self.blob_id}: {self.state}"


class ScanRelease(models.Model):
    """A repository owner's explicit release of a quarantined file: served again in that
    repository, with who released it, when and why."""

    repo = models.ForeignKey("registry.Repo", on_delete=models.CASCADE, related_name="scan_releases")
    blob = models.ForeignKey("registry.Blob", on_delete=models.CASCADE, related_name="scan_releases")
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    path = models.CharField(max_length=1024)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "blob"], name="scan_release_unique")]

    def __str__(self) -> str:
        return f"{self.repo_id}:{self.blob_id} released"


class Conversion(models.Model):
    """A job converting a repository's pickle checkpoints to safetensors at one commit; it ends
    with a pull request (``pull_request_num``) or a reason (``error``, ``globals`` when the
    checkpoint needs arbitrary code)."""

    repo = models.ForeignKey("registry.Repo", on_delete=models.CASCADE, related_name="conversions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    branch = models.CharField(max_length=255)
    revision = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=ConversionStatus.choices, default=ConversionStatus.QUEUED)
    sources = models.JSONField(default=list, blank=True)
    checksums = models.JSONField(default=list, blank=True)
    globals = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    pull_request_num = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"conversion {self.pk} of {self.repo_id}: {self.status}"
