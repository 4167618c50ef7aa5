"""Malware scanning of repository files, pure: bytes in, a report out (no Django, no database).

Nothing here ever unpickles: pickles are read as opcodes only (``picklescan``, which walks
``pickletools.genops``), zip archives are checked from their central directory before any entry is
decompressed, and every read is bounded. :func:`scan_file` is the one entry point; the registry
stores its :class:`ScanReport` per blob (``registry.services.scans``).
"""

from registry.scanning.report import Finding, ScanLimits, ScanReport, ScanState
from registry.scanning.scan import SCANNER_NAME, is_scannable_path, scan_file, scanner_version

__all__ = [
    "SCANNER_NAME",
    "Finding",
    "ScanLimits",
    "ScanReport",
    "ScanState",
    "is_scannable_path",
    "scan_file",
    "scanner_version",
]
