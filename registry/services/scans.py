"""Malware scans of blobs (queued when content arrives, run by ``registry.tasks.blob_scan_task``)
and the release of a quarantined file by its repository's owner.

What is scanned: every blob uploaded through the LFS batch API or the Xet CAS, and every file
committed under a pickle-based or archive name (``registry.scanning.is_scannable_path``), inline or
pushed over git. A scan belongs to the content and runs once per scanner version; the task is safe
to run twice.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import ValidationError
from registry.choices import ScanStatus
from registry.errors import EntryNotFound
from registry.models import Blob, BlobScan, Repo, ScanRelease
from registry.scanning import SCANNER_NAME, ScanLimits, is_scannable_path, scan_file, scanner_version
from registry.selectors.revisions import revision_resolve
from registry.selectors.scans import file_scans
from registry.signals import blob_scanned
from registry.storage import blob_open, blob_storage, staging_dir
from registry.trees import FileInfo, tree_lookup


def scans_queue(*, blobs: Iterable[Blob], hints: dict[str, str] | None = None) -> None:
    """Record a pending scan for each blob that has none and queue it once the transaction commits.

    ``hints`` maps a sha256 to a file name it is committed under (a hint for pickles without magic
    bytes). Idempotent: a blob already scanned, or waiting, is left as it is.
    """
    from registry.tasks import blob_scan_task

    by_pk = {blob.pk: blob for blob in blobs}
    if not by_pk:
        return
    hints = hints or {}
    BlobScan.objects.bulk_create(
        [BlobScan(blob=blob, hint=hints.get(blob.sha256, "")[:255]) for blob in by_pk.values()],
        ignore_conflicts=True,
    )
    _hints_learnt(by_pk=by_pk, hints=hints)
    for blob_id in BlobScan.objects.filter(blob_id__in=list(by_pk), state=ScanStatus.PENDING).values_list(
        "blob_id", flat=True
    ):
        blob_scan_task.delay_on_commit(blob_id)


def _hints_learnt(*, by_pk: dict[int, Blob], hints: dict[str, str]) -> None:
    """Record a file name for scans queued without one (LFS and Xet uploads come before their
    commit names them). Content scanned as "other" is scanned again under its name: a protocol-0
    pickle has no magic bytes, only its ``.pkl`` name tells."""
    hinted = [pk for pk, blob in by_pk.items() if hints.get(blob.sha256)]
    if not hinted:
        return
    for scan in BlobScan.objects.filter(blob_id__in=hinted, hint="").select_related("blob"):
        hint = hints[scan.blob.sha256][:255]
        rescan = scan.state != ScanStatus.PENDING and scan.kind == "other" and is_scannable_path(hint)
        fields = {"hint": hint, **({"state": ScanStatus.PENDING} if rescan else {})}
        BlobScan.objects.filter(pk=scan.pk, hint="").update(**fields)


def scans_queue_for_files(*, files: Iterable[tuple[str, Blob, bool]]) -> None:
    """Queue scans of committed files (path, blob, is LFS): LFS files and pickle-based or archive
    names, whatever their storage."""
    chosen: dict[int, Blob] = {}
    hints: dict[str, str] = {}
    for path, blob, lfs in files:
        if lfs or is_scannable_path(path):
            chosen[blob.pk] = blob
            hints.setdefault(blob.sha256, path.rsplit("/", 1)[-1])
    scans_queue(blobs=chosen.values(), hints=hints)


def _limits() -> ScanLimits:
    return ScanLimits(max_pickle_bytes=settings.HUB_SCAN_MAX_PICKLE_BYTES, max_ratio=settings.HUB_SCAN_MAX_RATIO)


def _local_copy(blob: Blob, folder: Path) -> Path:
    """The blob as a local file: the stored file itself on the filesystem backend, else a copy."""
    try:
        return Path(blob_storage().path(blob.storage_key))
    except NotImplementedError:
        target = folder / "blob"
        with blob_open(blob) as source, open(target, "wb") as handle:
            shutil.copyfileobj(source, handle, 1024 * 1024)
        return target


def blob_scan(*, blob_id: int) -> BlobScan | None:
    """Scan one blob and record the result (state, scanner and version, findings, when).

    Nothing in the file is executed: ``registry.scanning`` reads pickles as opcodes. A blob already
    scanned by this scanner version is left as it is.
    """
    scan = BlobScan.objects.filter(blob_id=blob_id).select_related("blob").first()
    if scan is None:
        return None
    version = scanner_version()
    if scan.state != ScanStatus.PENDING and scan.scanner_version == version:
        return scan
    with tempfile.TemporaryDirectory(dir=staging_dir()) as folder:
        try:
            report = scan_file(_local_copy(scan.blob, Path(folder)), name=scan.hint, limits=_limits())
        except OSError as error:
            state, kind, findings, issues = ScanStatus.ERROR, "", [], [f"the file could not be read: {error}"]
        else:
            state, kind = ScanStatus(report.state.value), report.kind
            findings, issues = [f.as_dict() for f in report.findings], report.issues
    BlobScan.objects.filter(pk=scan.pk).update(
        state=state,
        kind=kind,
        findings=findings,
        issues=issues,
        scanner=SCANNER_NAME,
        scanner_version=version,
        scanned_at=timezone.now(),
    )
    scan.refresh_from_db()
    blob_scanned.send(sender=BlobScan, blob_id=scan.blob_id, state=scan.state)
    return scan


def scan_release(*, repo: Repo, user, revision: str, path: str, reason: str, confirm: bool) -> ScanRelease:
    """Serve a quarantined file of ``repo`` again, on its owner's explicit word (``confirm``, after
    the warning), recording who released it, when and why. The caller checked ADMIN access."""
    if not confirm:
        raise ValidationError(
            "Releasing a file the malware scan found dangerous lets everyone download it: confirm to proceed.",
            fields={"confirm": ["Must be true."]},
        )
    commit = revision_resolve(repo=repo, revision=revision).commit
    info = tree_lookup(commit.tree_oid, path)
    if not isinstance(info, FileInfo):
        raise EntryNotFound(f"{path} does not exist at {revision}.")
    found = file_scans(repo=repo, sha256s=[info.sha256]).get(info.sha256)
    if found is None or found.state != ScanStatus.DANGEROUS:
        raise ValidationError(f"{path} is not quarantined: only files the scan found dangerous can be released.")
    blob = Blob.objects.get(sha256=info.sha256)
    with transaction.atomic():
        release, _ = ScanRelease.objects.update_or_create(
            repo=repo, blob=blob, defaults={"released_by": user, "path": path, "reason": reason[:2000]}
        )
    return release
