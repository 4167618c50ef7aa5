"""What a scan finds: the state of a file, the imports of its pickles and the problems seen."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ScanState(StrEnum):
    """Ordered from harmless to worst; a file's state is the worst of what was found."""

    CLEAN = "clean"
    ERROR = "error"
    SUSPICIOUS = "suspicious"
    DANGEROUS = "dangerous"

    @property
    def rank(self) -> int:
        return list(ScanState).index(self)


@dataclass(frozen=True)
class Finding:
    """One import a pickle asks for (``module``, ``name``) and how safe it is (``innocuous``,
    ``suspicious``, ``dangerous``); ``entry`` names the archive member it came from."""

    module: str
    name: str
    safety: str
    entry: str = ""

    def as_dict(self) -> dict:
        return {"module": self.module, "name": self.name, "safety": self.safety, "entry": self.entry}


@dataclass(frozen=True)
class ScanLimits:
    """Bounds of a scan: past them a file is flagged, never read further.

    ``max_pickle_bytes``: bytes of one pickle stream the scanner reads. ``max_safetensors_header``:
    the JSON header of a safetensors file (safetensors itself refuses more than 100 MB).
    ``max_entry_bytes`` / ``max_total_bytes``: declared uncompressed size of one archive member /
    of all of them. ``max_ratio``: uncompressed/compressed size of a member larger than
    ``ratio_floor_bytes``. ``max_entries``: members of an archive.
    """

    max_pickle_bytes: int = 64 * 1024 * 1024
    max_safetensors_header: int = 100 * 1000 * 1000
    max_entry_bytes: int = 64 * 1024**3
    max_total_bytes: int = 256 * 1024**3
    max_ratio: int = 200
    ratio_floor_bytes: int = 1024 * 1024
    max_entries: int = 100_000


@dataclass
class ScanReport:
    """The outcome for one file: ``kind`` (pickle, zip, safetensors, other), its state, the imports
    found and human-readable ``issues`` (archive bombs, oversized headers, parse errors)."""

    kind: str
    state: ScanState = ScanState.CLEAN
    findings: list[Finding] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)

    def flag(self, state: ScanState, issue: str) -> None:
        self.issues.append(issue)
        self.raise_to(state)

    def raise_to(self, state: ScanState) -> None:
        if state.rank > self.state.rank:
            self.state = state

    @property
    def dangerous_imports(self) -> list[str]:
        return sorted({f"{f.module}.{f.name}" for f in self.findings if f.safety == "dangerous"})

    @property
    def unknown_imports(self) -> list[str]:
        return sorted({f"{f.module}.{f.name}" for f in self.findings if f.safety != "innocuous"})
