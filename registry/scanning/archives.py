"""Zip archives (``torch.save``'s format, ``.npz``, plain zips): bombs are caught from the central
directory before any member is decompressed, then pickle members are scanned with a bounded read.

A bomb is a member whose declared uncompressed size or compression ratio is absurd, archives
declaring more in all than the limit, members sharing their data (overlapping local headers), or
a member that inflates past what it declared.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import BinaryIO

from registry.scanning.pickles import PICKLE_SUFFIXES, scan_pickle_stream
from registry.scanning.report import ScanLimits, ScanReport, ScanState

READ_CHUNK = 1024 * 1024
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def _bomb_check(report: ScanReport, infos: list[zipfile.ZipInfo], limits: ScanLimits) -> bool:
    """Flag the archive as dangerous when its directory describes a bomb; True when it does."""
    if len(infos) > limits.max_entries:
        report.flag(ScanState.DANGEROUS, f"archive bomb: {len(infos)} members (limit {limits.max_entries})")
        return True
    total = 0
    offsets: set[int] = set()
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_entry_bytes:
            report.flag(
                ScanState.DANGEROUS,
                f"archive bomb: {info.filename} declares {info.file_size} bytes (limit {limits.max_entry_bytes})",
            )
            return True
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            report.flag(
                ScanState.DANGEROUS,
                f"archive bomb: {info.filename} inflates {ratio}x ({info.compress_size} -> {info.file_size} bytes, "
                f"limit {limits.max_ratio}x)",
            )
            return True
        if info.header_offset in offsets:
            report.flag(ScanState.DANGEROUS, f"archive bomb: {info.filename} shares its data with another member")
            return True
        offsets.add(info.header_offset)
    if total > limits.max_total_bytes:
        report.flag(ScanState.DANGEROUS, f"archive bomb: {total} bytes in all (limit {limits.max_total_bytes})")
        return True
    return False


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """A member's bytes, at most ``limit``; None when it inflates past its declared size."""
    chunks, size = [], 0
    with archive.open(info) as member:
        while chunk := member.read(min(READ_CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > info.file_size:
                return None
            chunks.append(chunk)
            if size > limit:
                break
    return b"".join(chunks)


def _inflates_past_declared(stream: BinaryIO, info: zipfile.ZipInfo) -> bool:
    """Inflate a deflated member without keeping it; True when it yields more than it declares.

    ``zipfile`` itself stops at the declared size (and then fails on the checksum), so the raw
    deflate stream is read here, from the member's local header, with the output bounded.
    """
    stream.seek(info.header_offset)
    local = stream.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{info.filename}: bad local header")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    stream.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15)
    produced, remaining = 0, info.compress_size
    while remaining > 0 and not inflater.eof:
        chunk = stream.read(min(READ_CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        data = inflater.decompress(chunk, READ_CHUNK)
        produced += len(data)
        while inflater.unconsumed_tail and produced <= info.file_size:
            produced += len(inflater.decompress(inflater.unconsumed_tail, READ_CHUNK))
        if produced > info.file_size:
            return True
    return False


def scan_zip(report: ScanReport, stream: BinaryIO, limits: ScanLimits) -> None:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        report.flag(ScanState.ERROR, f"the archive could not be read: {error}")
        return
    with archive:
        infos = archive.infolist()
        if _bomb_check(report, infos, limits):
            return
        for info in infos:
            if info.is_dir():
                continue
            try:
                if info.compress_type == zipfile.ZIP_DEFLATED and _inflates_past_declared(stream, info):
                    report.flag(ScanState.DANGEROUS, f"archive bomb: {info.filename} inflates past its declared size")
                    return
                with archive.open(info) as member:
                    head = member.read(2)
                if not (info.filename.lower().endswith(PICKLE_SUFFIXES) or head in PICKLE_MAGIC):
                    continue
                data = _read_member(archive, info, limits.max_pickle_bytes)
            except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, NotImplementedError, EOFError) as error:
                report.flag(ScanState.ERROR, f"{info.filename}: could not be read ({error})")
                continue
            if data is None:
                report.flag(ScanState.DANGEROUS, f"archive bomb: {info.filename} inflates past its declared size")
                return
            if len(data) > limits.max_pickle_bytes:
                report.flag(
                    ScanState.SUSPICIOUS,
                    f"{info.filename}: not scanned, the pickle is longer than {limits.max_pickle_bytes} bytes",
                )
                continue
            scan_pickle_stream(report, io.BytesIO(data), limit=limits.max_pickle_bytes, entry=info.filename)
