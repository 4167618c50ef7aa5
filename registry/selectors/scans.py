"""Reads of malware scans: per file, per commit, per repository, and the quarantine check every
download path makes (``scan_check_servable``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from registry.choices import ScanStatus
from registry.errors import FileQuarantined
from registry.models import BlobScan, Repo, ScanRelease
from registry.trees import FileInfo, tree_files

STATE_LABELS = {
    ScanStatus.PENDING: "Scan pending",
    ScanStatus.CLEAN: "Scanned: safe",
    ScanStatus.SUSPICIOUS: "Suspicious",
    ScanStatus.ERROR: "Scan error",
}
# States a repository's page and the HF API report as an issue, worst first.
ISSUE_STATES = (ScanStatus.DANGEROUS, ScanStatus.SUSPICIOUS, ScanStatus.ERROR)


@dataclass(frozen=True)
class FileScan:
    """A file's scan as pages and APIs show it; ``released``: its owner released it in this repository."""

    scan: BlobScan
    released: bool

    @property
    def state(self) -> str:
        return self.scan.state

    @property
    def quarantined(self) -> bool:
        return self.scan.state == ScanStatus.DANGEROUS and not self.released

    @property
    def label(self) -> str:
        """The badge pages show."""
        if self.scan.state == ScanStatus.DANGEROUS:
            return "Quarantined" if self.quarantined else "Dangerous (released)"
        return STATE_LABELS[self.scan.state]

    @property
    def dangerous_imports(self) -> list[str]:
        return sorted({f"{f['module']}.{f['name']}" for f in self.scan.findings if f.get("safety") == "dangerous"})

    @property
    def unknown_imports(self) -> list[str]:
        return sorted({f"{f['module']}.{f['name']}" for f in self.scan.findings if f.get("safety") != "innocuous"})

    @property
    def summary(self) -> str:
        """One sentence naming the scan and what it found."""
        scan = self.scan
        scanner = f"{scan.scanner} {scan.scanner_version}".strip() or "the hub's scanner"
        when = f" on {scan.scanned_at:%Y-%m-%d %H:%M} UTC" if scan.scanned_at else ""
        found = []
        if self.dangerous_imports:
            found.append("dangerous imports " + ", ".join(self.dangerous_imports))
        found.extend(scan.issues)
        what = "; ".join(found) if found else scan.get_state_display().lower()
        return f"Malware scan ({scanner}{when}): {what}."


def file_scans(*, repo: Repo, sha256s: Iterable[str]) -> dict[str, FileScan]:
    """The scans of these contents (sha256 -> scan), with this repository's releases: one query, two
    when some are dangerous."""
    wanted = set(sha256s)
    if not wanted:
        return {}
    scans = {s.blob.sha256: s for s in BlobScan.objects.filter(blob__sha256__in=wanted).select_related("blob")}
    # Only dangerous content can have been released: no second query for a tree without any.
    dangerous = [sha for sha, scan in scans.items() if scan.state == ScanStatus.DANGEROUS]
    released = set(
        ScanRelease.objects.filter(repo=repo, blob__sha256__in=dangerous).values_list("blob__sha256", flat=True)
    )
    return {sha: FileScan(scan=scan, released=sha in released) for sha, scan in scans.items()}


def scan_check_servable(*, repo: Repo, sha256: str, path: str = "") -> None:
    """Raise ``FileQuarantined`` (403, naming the scan) when this content is dangerous and its
    owner has not released it in ``repo``. Every download path calls it."""
    found = file_scans(repo=repo, sha256s=[sha256]).get(sha256)
    if found is not None and found.quarantined:
        name = f"{path} is" if path else "This file is"
        raise FileQuarantined(
            f"{name} quarantined and not served. {found.summary} The repository's owner may release it after review."
        )


@dataclass(frozen=True)
class TreeScanStatus:
    """The scans of the files of one commit: ``state`` is the worst (pending while any runs),
    ``issues`` (path, FileScan) the files found suspicious, dangerous or unreadable, ``files`` every
    scanned file."""

    state: str
    scanned: int
    pending: int
    issues: list[tuple[str, FileScan]]
    files: list[tuple[str, FileScan]]

    @property
    def done(self) -> bool:
        return self.pending == 0


def tree_scan_status(*, repo: Repo, tree_oid: str, files: list[FileInfo] | None = None) -> TreeScanStatus:
    """The scan status of a commit's files (the status shown on a commit and a repository)."""
    files = tree_files(tree_oid) if files is None else files
    scans = file_scans(repo=repo, sha256s=[f.sha256 for f in files])
    issues, pending, scanned, listed = [], 0, 0, []
    for info in files:
        found = scans.get(info.sha256)
        if found is None:
            continue
        scanned += 1
        listed.append((info.path, found))
        if found.state == ScanStatus.PENDING:
            pending += 1
        elif found.state in ISSUE_STATES:
            issues.append((info.path, found))
    order = {state: rank for rank, state in enumerate(ISSUE_STATES)}
    issues.sort(key=lambda item: (order[item[1].state], item[0]))
    if issues and issues[0][1].state == ScanStatus.DANGEROUS:
        state = ScanStatus.DANGEROUS
    elif pending:
        state = ScanStatus.PENDING
    elif issues:
        state = issues[0][1].state
    else:
        state = ScanStatus.CLEAN
    return TreeScanStatus(state=state, scanned=scanned, pending=pending, issues=issues, files=listed)
