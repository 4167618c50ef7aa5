"""Shards: parse an uploaded shard and verify its files against the stored xorbs.

Layout (all integers little-endian, every record 48 bytes)::

    header   tag[32] version u64 (=2) footer_size u64 (0 on upload)
    file-info section, repeated until a bookend record:
        FileDataSequenceHeader  file_hash[32] flags u32 n u32 pad[8]
        n x Entry               xorb_hash[32] cas_flags u32 unpacked_bytes u32 chunk_start u32 chunk_end u32
        n x Verification        range_hash[32] pad[16]        (flag bit 31)
        1 x MetadataExt         sha256[32] pad[16]            (flag bit 30)
    CAS-info section, repeated until a bookend record:
        Header                  xorb_hash[32] flags u32 n u32 bytes_in_cas u32 bytes_on_disk u32
        n x Entry               chunk_hash[32] unpacked_offset u32 unpacked u32 pad[8]
    footer (200 bytes)          only when footer_size != 0 (stored shards, dedup answers)

A bookend is 32 bytes of 0xFF followed by 16 zero bytes.

The CAS-info section is parsed but not trusted: the server indexes xorbs itself when they are
uploaded, and :func:`verify_shard` checks every file only against those indexes.
"""

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from .errors import (
    XetChunkRangeError,
    XetFileHashMismatch,
    XetFormatError,
    XetMissingXorb,
    XetShardError,
    XetSizeLimitError,
    XetUnpackedSizeMismatch,
    XetVerificationHashMismatch,
)
from .hashing import HASH_SIZE, ZERO_HASH, file_hash, hash_to_hex, sha256_hex_from_shard, term_verification_hash
from .streams import read_exact, read_up_to
from .types import ChunkEntry, ChunkTableLookup, FileTerm

SHARD_HEADER_TAG = b"HFRepoMetaData\0" + bytes(
    [85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
SHARD_HEADER_VERSION = 2
SHARD_FOOTER_VERSION = 1
SHARD_FOOTER_SIZE = 200
RECORD_SIZE = 48
BOOKEND_HASH = b"\xff" * HASH_SIZE

FILE_FLAG_WITH_VERIFICATION = 1 << 31
FILE_FLAG_WITH_METADATA_EXT = 1 << 30

# Uploaded shards stay far below this; the cap bounds what one request can make the server parse.
MAX_SHARD_BYTES = 64 * 1024 * 1024

_HEADER = struct.Struct(f"<{HASH_SIZE}sQQ")
_FILE_HEADER = struct.Struct(f"<{HASH_SIZE}sII8x")
_FILE_ENTRY = struct.Struct(f"<{HASH_SIZE}sIIII")
_HASH_RECORD = struct.Struct(f"<{HASH_SIZE}s16x")
_CAS_HEADER = struct.Struct(f"<{HASH_SIZE}sIIII")
_CAS_ENTRY = struct.Struct(f"<{HASH_SIZE}sII8x")
_FOOTER = struct.Struct("<QQQ48x32sQQ72xQ")


@dataclass(frozen=True)
class ShardFile:
    """One file described by a shard: how to rebuild it from xorb chunks, and what it hashes to."""

    file_hash: bytes
    terms: tuple[FileTerm, ...]
    # One per term when the shard carries verification entries, else None.
    verification_hashes: tuple[bytes, ...] | None
    # The 32 bytes stored in the MetadataExt record (word-swapped), or None when absent.
    sha256_raw: bytes | None

    @property
    def file_hash_hex(self) -> str:
        return hash_to_hex(self.file_hash)

    @property
    def sha256(self) -> str | None:
        """The usual sha256 hexdigest the client declared for the content, if any."""
        return None if self.sha256_raw is None else sha256_hex_from_shard(self.sha256_raw)

    @property
    def size(self) -> int:
        return sum(term.unpacked_bytes for term in self.terms)


class ShardXorbChunk(NamedTuple):
    hash: bytes
    # Offset of the chunk in the xorb's *unpacked* data (not in the stored records).
    unpacked_offset: int
    unpacked_size: int


@dataclass(frozen=True)
class ShardXorb:
    """A CAS-info block: the client's own description of a xorb it created (informational).

    ``chunks`` is empty unless the shard was parsed with ``with_cas_chunks=True``.
    """

    xorb_hash: bytes
    flags: int
    chunks: tuple[ShardXorbChunk, ...]
    bytes_in_cas: int
    bytes_on_disk: int


@dataclass(frozen=True)
class ShardFooter:
    file_info_offset: int
    cas_info_offset: int
    chunk_hash_hmac_key: bytes
    creation_timestamp: int
    key_expiry: int
    footer_offset: int


@dataclass(frozen=True)
class Shard:
    files: tuple[ShardFile, ...]
    xorbs: tuple[ShardXorb, ...]
    footer: ShardFooter | None

    def referenced_xorbs(self) -> set[bytes]:
        """Every xorb hash a file term names: what the caller must look up before verifying."""
        return {term.xorb_hash for f in self.files for term in f.terms}


class _BoundedReader:
    """Counts bytes read and refuses to read past ``limit``."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.offset = 0

    def record(self, what: str) -> bytes:
        if self.offset + RECORD_SIZE > self._limit:
            raise XetSizeLimitError(f"shard exceeds {self._limit} bytes")
        data = read_exact(self._stream, RECORD_SIZE, f"shard {what} at byte {self.offset}")
        self.offset += RECORD_SIZE
        return data

    def records(self, count: int, what: str) -> Iterator[bytes]:
        for _ in range(count):
            yield self.record(what)

    def rest(self, size: int) -> bytes:
        data = read_up_to(self._stream, size)
        self.offset += len(data)
        return data


def _parse_file_section(reader: _BoundedReader) -> list[ShardFile]:
    files: list[ShardFile] = []
    while True:
        file_hash_raw, flags, count = _FILE_HEADER.unpack(reader.record("file header"))
        if file_hash_raw == BOOKEND_HASH:
            return files
        where = f"file {hash_to_hex(file_hash_raw)}"
        terms = tuple(
            FileTerm(xorb, start, end, unpacked)
            for xorb, _cas_flags, unpacked, start, end in (
                _FILE_ENTRY.unpack(r) for r in reader.records(count, f"{where} term")
            )
        )
        verification = None
        if flags & FILE_FLAG_WITH_VERIFICATION:
            verification = tuple(
                _HASH_RECORD.unpack(r)[0] for r in reader.records(count, f"{where} verification entry")
            )
        sha256_raw = None
        if flags & FILE_FLAG_WITH_METADATA_EXT:
            (sha256_raw,) = _HASH_RECORD.unpack(reader.record(f"{where} metadata"))
        files.append(ShardFile(file_hash_raw, terms, verification, sha256_raw))


def _parse_cas_section(reader: _BoundedReader, with_chunks: bool) -> list[ShardXorb]:
    xorbs: list[ShardXorb] = []
    while True:
        xorb, flags, count, bytes_in_cas, bytes_on_disk = _CAS_HEADER.unpack(reader.record("CAS header"))
        if xorb == BOOKEND_HASH:
            return xorbs
        records = reader.records(count, f"CAS entry of xorb {hash_to_hex(xorb)}")
        if with_chunks:
            chunks = tuple(ShardXorbChunk(*_CAS_ENTRY.unpack(r)) for r in records)
        else:
            chunks = ()
            for _ in records:
                pass
        xorbs.append(ShardXorb(xorb, flags, chunks, bytes_in_cas, bytes_on_disk))


def parse_shard(stream: BinaryIO, *, max_bytes: int = MAX_SHARD_BYTES, with_cas_chunks: bool = False) -> Shard:
    """Parse a shard from ``stream`` (read sequentially, never seeked).

    The CAS-info section's per-chunk entries are the bulk of a large shard and are not needed to
    verify it; they are read and dropped unless ``with_cas_chunks`` is set.

    Raises :class:`XetFormatError` (bad tag or version, truncated record, bad footer, trailing
    bytes) or :class:`XetSizeLimitError` (more than ``max_bytes``).
    """
    header = read_exact(stream, _HEADER.size, "shard header")
    tag, version, footer_size = _HEADER.unpack(header)
    if tag != SHARD_HEADER_TAG:
        raise XetFormatError("not a shard: bad header tag")
    if version != SHARD_HEADER_VERSION:
        raise XetFormatError(f"unsupported shard version {version} (expected {SHARD_HEADER_VERSION})")
    if footer_size not in (0, SHARD_FOOTER_SIZE):
        raise XetFormatError(f"unsupported shard footer size {footer_size}")
    reader = _BoundedReader(stream, max_bytes)
    reader.offset = _HEADER.size
    files = _parse_file_section(reader)
    xorbs = _parse_cas_section(reader, with_cas_chunks)

    footer = None
    if footer_size:
        footer_offset = reader.offset
        raw = reader.rest(SHARD_FOOTER_SIZE)
        if len(raw) != SHARD_FOOTER_SIZE:
            raise XetFormatError(f"truncated shard footer: {len(raw)} of {SHARD_FOOTER_SIZE} bytes")
        version, file_off, cas_off, hmac_key, created, expiry, stored_offset = _FOOTER.unpack(raw)
        if version != SHARD_FOOTER_VERSION:
            raise XetFormatError(f"unsupported shard footer version {version}")
        if stored_offset != footer_offset:
            raise XetFormatError(f"shard footer says it starts at {stored_offset}, found at {footer_offset}")
        footer = ShardFooter(file_off, cas_off, hmac_key, created, expiry, stored_offset)
    if reader.rest(1):
        raise XetFormatError(f"unexpected bytes after the shard at byte {reader.offset - 1}")
    return Shard(tuple(files), tuple(xorbs), footer)


def build_shard(
    files: Iterable[ShardFile],
    xorbs: Iterable[ShardXorb] = (),
    *,
    footer: bool = False,
    chunk_hash_hmac_key: bytes = ZERO_HASH,
    creation_timestamp: int = 0,
    key_expiry: int = 0,
) -> bytes:
    """Serialise a shard (the inverse of :func:`parse_shard`; reserved fields are written as zeros).

    Upload bodies carry no footer; stored shards and dedup answers do (``footer=True``), with the
    section offsets filled in.
    """
    bookend = BOOKEND_HASH + bytes(RECORD_SIZE - HASH_SIZE)
    out = bytearray(_HEADER.pack(SHARD_HEADER_TAG, SHARD_HEADER_VERSION, SHARD_FOOTER_SIZE if footer else 0))
    file_info_offset = len(out)
    for f in files:
        flags = (FILE_FLAG_WITH_VERIFICATION if f.verification_hashes is not None else 0) | (
            FILE_FLAG_WITH_METADATA_EXT if f.sha256_raw is not None else 0
        )
        out += _FILE_HEADER.pack(f.file_hash, flags, len(f.terms))
        for t in f.terms:
            out += _FILE_ENTRY.pack(t.xorb_hash, 0, t.unpacked_bytes, t.chunk_start, t.chunk_end)
        if f.verification_hashes is not None:
            if len(f.verification_hashes) != len(f.terms):
                raise ValueError(
                    f"file {f.file_hash_hex}: {len(f.verification_hashes)} verification hashes for {len(f.terms)} terms"
                )
            for h in f.verification_hashes:
                out += _HASH_RECORD.pack(h)
        if f.sha256_raw is not None:
            out += _HASH_RECORD.pack(f.sha256_raw)
    out += bookend
    cas_info_offset = len(out)
    for x in xorbs:
        out += _CAS_HEADER.pack(x.xorb_hash, x.flags, len(x.chunks), x.bytes_in_cas, x.bytes_on_disk)
        for c in x.chunks:
            out += _CAS_ENTRY.pack(c.hash, c.unpacked_offset, c.unpacked_size)
    out += bookend
    if footer:
        out += _FOOTER.pack(
            SHARD_FOOTER_VERSION,
            file_info_offset,
            cas_info_offset,
            chunk_hash_hmac_key,
            creation_timestamp,
            key_expiry,
            len(out),
        )
    return bytes(out)


def verify_shard_file(
    shard_file: ShardFile,
    lookup: ChunkTableLookup,
    *,
    require_verification: bool = True,
    require_sha256: bool = True,
) -> None:
    """Check that the stored xorbs back ``shard_file`` exactly.

    For every term: the xorb is held (:class:`XetMissingXorb`), the chunk range lies inside it
    (:class:`XetChunkRangeError`), ``unpacked_bytes`` is the sum of the chunk sizes
    (:class:`XetUnpackedSizeMismatch`) and the verification hash matches the stored chunk hashes
    (:class:`XetVerificationHashMismatch`). Then the file hash must be the root over all term
    chunks (:class:`XetFileHashMismatch`). Missing required sections raise :class:`XetShardError`.

    This proves the terms reproduce content hashing to ``file_hash``; it does not prove the
    declared sha256 (only reconstruction can, see ``reconstruction.reconstruct_file``).
    """
    name = shard_file.file_hash_hex
    verification = shard_file.verification_hashes
    if verification is None and require_verification:
        raise XetShardError(f"file {name}: shard carries no verification entries")
    if shard_file.sha256_raw is None and require_sha256:
        raise XetShardError(f"file {name}: shard carries no sha256 metadata")

    leaves: list[tuple[bytes, int]] = []
    for index, term in enumerate(shard_file.terms):
        where = f"file {name} term {index}"
        xorb_hex = term.xorb_hash_hex
        table = lookup(term.xorb_hash)
        if table is None:
            raise XetMissingXorb(f"{where}: xorb {xorb_hex} is not stored", xorb_hash=xorb_hex)
        if not 0 <= term.chunk_start < term.chunk_end <= len(table):
            raise XetChunkRangeError(
                f"{where}: chunk range [{term.chunk_start}, {term.chunk_end}) is not inside "
                f"xorb {xorb_hex} of {len(table)} chunks"
            )
        chunks: list[ChunkEntry] | tuple[ChunkEntry, ...] = table[term.chunk_start : term.chunk_end]
        size = sum(c.unpacked_size for c in chunks)
        if size != term.unpacked_bytes:
            raise XetUnpackedSizeMismatch(
                f"{where}: declares {term.unpacked_bytes} unpacked bytes, chunks of xorb {xorb_hex} hold {size}"
            )
        if verification is not None:
            expected = term_verification_hash(c.hash for c in chunks)
            if verification[index] != expected:
                raise XetVerificationHashMismatch(
                    f"{where}: verification hash {hash_to_hex(verification[index])} does not match "
                    f"chunks [{term.chunk_start}, {term.chunk_end}) of xorb {xorb_hex}"
                )
        leaves.extend((c.hash, c.unpacked_size) for c in chunks)

    actual = file_hash(leaves)
    if actual != shard_file.file_hash:
        raise XetFileHashMismatch(f"file {name}: its terms' chunks hash to {hash_to_hex(actual)}")


def verify_shard(
    shard: Shard,
    lookup: ChunkTableLookup,
    *,
    require_verification: bool = True,
    require_sha256: bool = True,
) -> None:
    """:func:`verify_shard_file` for every file of ``shard``; raises on the first failure."""
    for shard_file in shard.files:
        verify_shard_file(shard_file, lookup, require_verification=require_verification, require_sha256=require_sha256)
