"""Pickle imports, read as opcodes by ``picklescan`` and judged with the hub's allow-list.

``picklescan`` marks a global dangerous (``os.system``, ``builtins.eval``, …), innocuous (its short
safe list) or suspicious (anything it does not know). The hub's own allow-list below turns the
globals a plain ``torch.save`` / ``torch.load(weights_only=True)`` checkpoint needs into innocuous
ones; every other unknown global stays suspicious. Nothing is ever unpickled.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from picklescan.scanner import ScanResult, scan_pickle_bytes, scan_pytorch
from picklescan.torch import InvalidMagicError

from registry.scanning.report import Finding, ScanReport, ScanState

# (module, name) pairs a weights-only checkpoint uses; the same spirit as torch's own
# ``weights_only`` unpickler: tensor and parameter rebuilders, storages, plain containers.
HUB_SAFE_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor_v3"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        ("torch._tensor", "_rebuild_from_type_v2"),
        ("torch", "Size"),
        ("torch", "device"),
        ("torch", "Tensor"),
        ("torch.nn.parameter", "Parameter"),
        ("torch", "UntypedStorage"),
        ("torch.storage", "UntypedStorage"),
        ("torch", "TypedStorage"),
        ("torch", "FloatStorage"),
        ("torch", "bfloat16"),
        ("torch", "float16"),
        ("torch", "float32"),
        ("torch", "float64"),
        ("torch", "int8"),
        ("torch", "int16"),
        ("torch", "int32"),
        ("torch", "int64"),
        ("torch", "uint8"),
        ("torch", "bool"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "slice"),
        ("builtins", "complex"),
        ("_codecs", "encode"),
    }
)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".bin", ".pt", ".pth", ".ckpt", ".joblib", ".dill", ".npy", ".pth.tar")


class PickleTooLarge(Exception):
    """A pickle stream went on past the scanner's bound."""


class BoundedReader(io.RawIOBase):
    """A seekable view of ``inner`` that refuses to read past ``limit`` bytes from its start:
    a pickle of gigabytes is flagged instead of filling memory with its opcodes."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _check(self) -> None:
        if self._inner.tell() > self._limit:
            raise PickleTooLarge(f"the pickle stream is longer than {self._limit} bytes")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._limit + 1 - self._inner.tell()
        data = self._inner.read(max(0, size))
        self._check()
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        remaining = self._limit + 1 - self._inner.tell()
        data = self._inner.readline(remaining if size is None or size < 0 else min(size, remaining))
        self._check()
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()


def judge(result: ScanResult, *, entry: str = "") -> list[Finding]:
    """picklescan's globals with the hub's allow-list applied, sorted for a stable record."""
    findings = set()
    for found in result.globals:
        safety = found.safety.value
        if safety == "suspicious" and (found.module, found.name) in HUB_SAFE_GLOBALS:
            safety = "innocuous"
        findings.add(Finding(module=found.module, name=found.name, safety=safety, entry=entry))
    return sorted(findings, key=lambda f: (f.entry, f.module, f.name))


def record(report: ScanReport, findings: list[Finding], *, scan_error: bool, where: str) -> None:
    """Add ``findings`` to ``report`` and raise its state to the worst of them."""
    report.findings.extend(findings)
    safeties = {f.safety for f in findings}
    if "dangerous" in safeties:
        report.raise_to(ScanState.DANGEROUS)
    elif "suspicious" in safeties:
        report.raise_to(ScanState.SUSPICIOUS)
    if scan_error:
        report.flag(ScanState.SUSPICIOUS, f"{where}: the pickle is malformed after its imports")


def scan_pickle_stream(report: ScanReport, stream: BinaryIO, *, limit: int, entry: str = "", torch_legacy=False):
    """Scan one pickle stream (or the pickles of a legacy, non-zip ``torch.save`` file) into ``report``."""
    where = entry or "file"
    bounded = BoundedReader(stream, limit)
    try:
        if torch_legacy:
            try:
                result = scan_pytorch(bounded, where)
            except InvalidMagicError:
                bounded.seek(0)
                result = scan_pickle_bytes(bounded, where)
        else:
            result = scan_pickle_bytes(bounded, where)
    except PickleTooLarge as error:
        report.flag(ScanState.SUSPICIOUS, f"{where}: not scanned, {error}")
        return
    except Exception as error:  # picklescan raises bare exceptions on malformed input
        report.flag(ScanState.ERROR, f"{where}: the pickle could not be read ({type(error).__name__}: {error})")
        return
    record(report, judge(result, entry=entry), scan_error=result.scan_err, where=where)
