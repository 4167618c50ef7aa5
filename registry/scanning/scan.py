"""The one entry point: what a file is (by its first bytes and its name) and which checks apply."""

from __future__ import annotations

import json
import struct
from importlib.metadata import version
from pathlib import Path
from typing import BinaryIO

from registry.scanning.archives import scan_zip
from registry.scanning.pickles import PICKLE_SUFFIXES, scan_pickle_stream
from registry.scanning.report import ScanLimits, ScanReport, ScanState

SCANNER_NAME = "picklescan"
# Raised whenever the hub's allow-list or checks change, so stored results say what judged them.
HUB_RULES_VERSION = 1
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# torch.save's legacy (non-zip) format starts with a pickle of this 10-byte integer.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
ARCHIVE_SUFFIXES = (".zip", ".npz")


def scanner_version() -> str:
    return f"{version('picklescan')}+hub{HUB_RULES_VERSION}"


def is_scannable_path(path: str) -> bool:
    """Files scanned whatever their storage (regular or LFS): pickle-based formats and archives."""
    return path.lower().endswith(PICKLE_SUFFIXES + ARCHIVE_SUFFIXES + (".safetensors",))


def _safetensors(report: ScanReport, stream: BinaryIO, size: int, limits: ScanLimits) -> None:
    raw = stream.read(8)
    if len(raw) < 8:
        report.flag(ScanState.ERROR, "safetensors: the file is shorter than its header length")
        return
    (length,) = struct.unpack("<Q", raw)
    if length > limits.max_safetensors_header:
        # Flagged, not quarantined: safetensors runs no code, and its loaders refuse such a header.
        report.flag(
            ScanState.SUSPICIOUS,
            f"safetensors: the header declares {length} bytes (limit {limits.max_safetensors_header})",
        )
        return
    if length + 8 > size:
        report.flag(ScanState.ERROR, f"safetensors: the header declares {length} bytes, past the end of the file")
        return
    try:
        header = json.loads(stream.read(length))
    except (UnicodeDecodeError, ValueError):
        report.flag(ScanState.ERROR, "safetensors: the header is not JSON")
        return
    if not isinstance(header, dict):
        report.flag(ScanState.ERROR, "safetensors: the header is not a JSON object")


def _kind(head: bytes, name: str) -> str:
    lowered = name.lower()
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if lowered.endswith(".safetensors") or (len(head) > 8 and head[8:9] == b"{"):
        return "safetensors"
    if lowered.endswith(PICKLE_SUFFIXES) or head[:1] == b"\x80":
        return "pickle"
    return "other"


def scan_file(path: Path, *, name: str = "", limits: ScanLimits | None = None) -> ScanReport:
    """Scan the file at ``path`` (``name``: a file name it was committed under, a hint for formats
    that have no magic bytes, such as protocol-0 pickles). Never executes anything in it."""
    limits = limits or ScanLimits()
    size = path.stat().st_size
    with open(path, "rb") as stream:
        head = stream.read(16)
        stream.seek(0)
        kind = _kind(head, name)
        report = ScanReport(kind=kind)
        if kind == "zip":
            scan_zip(report, stream, limits)
        elif kind == "safetensors":
            _safetensors(report, stream, size, limits)
        elif kind == "pickle":
            legacy = head.startswith(TORCH_LEGACY_MAGIC)
            scan_pickle_stream(report, stream, limit=limits.max_pickle_bytes, torch_legacy=legacy)
    return report
