"""Xorbs: parse and verify an uploaded xorb as a stream, and decode stored chunk records.

A xorb as uploaded is a concatenation of chunk records::

    [version u8 = 0][compressed_size u24 LE][scheme u8][unpacked_size u24 LE] + compressed_size bytes

optionally followed by a footer that starts with ``b"XETBLOB"`` (the client sends none; other
writers may). Parsing stops at the footer. The server stores the record bytes exactly as received,
so a chunk table's ``byte_start``/``byte_end`` index straight into the stored object and a ``Range``
read of it returns whole records — that is what download URLs hand out.

Memory: records are read, decompressed, hashed and (optionally) copied one at a time; nothing
proportional to the xorb size is held except the chunk table itself (a few dozen bytes per chunk).
"""

import enum
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import lz4.frame

from .errors import XetFormatError, XetHashMismatch, XetSizeLimitError
from .hashing import chunk_hash, hash_to_hex, xorb_hash
from .streams import read_exact, read_up_to
from .types import ChunkEntry

CHUNK_HEADER_SIZE = 8
CHUNK_RECORD_VERSION = 0
FOOTER_MAGIC = b"XETBLOB"

# The client cuts a xorb once its *unpacked* chunk data would pass 64 MiB or 8 Ki chunks.
MAX_XORB_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_XORB_CHUNKS = 8 * 1024
# Chunks are cut at 128 KiB at most (content-defined chunking with min 8 KiB, target 64 KiB).
MAX_CHUNK_BYTES = 128 * 1024
# LZ4 output may exceed its input for incompressible data (~1/255 plus frame overhead).
MAX_COMPRESSED_CHUNK_BYTES = MAX_CHUNK_BYTES + MAX_CHUNK_BYTES // 255 + 1024
# A full xorb of incompressible data is 64 MiB of payload plus one header per chunk, so the
# body limit is a little above 64 MiB; both unpacked bytes and chunk count are also checked.
MAX_XORB_BODY_BYTES = MAX_XORB_UNPACKED_BYTES + MAX_XORB_CHUNKS * CHUNK_HEADER_SIZE


class CompressionScheme(enum.IntEnum):
    """How a chunk record's payload is encoded."""

    NONE = 0
    LZ4 = 1  # one LZ4 *frame* (not a raw block)
    BG4_LZ4 = 2  # bytes split into 4 interleaved groups, then one LZ4 frame


@dataclass(frozen=True)
class ChunkHeader:
    version: int
    compressed_size: int
    scheme: int
    unpacked_size: int


@dataclass(frozen=True)
class XorbInfo:
    """What parsing a xorb established: its verified hash and chunk table."""

    hash: bytes
    chunks: tuple[ChunkEntry, ...]
    # Bytes of chunk records (the stored object's size; excludes any footer).
    stored_size: int
    unpacked_size: int
    # How many chunks used each compression scheme.
    schemes: Counter[CompressionScheme] = field(default_factory=Counter)
    has_footer: bool = False

    @property
    def hash_hex(self) -> str:
        return hash_to_hex(self.hash)


def parse_chunk_header(header: bytes) -> ChunkHeader:
    """Split an 8-byte chunk record header into its fields (no validation)."""
    return ChunkHeader(
        version=header[0],
        compressed_size=int.from_bytes(header[1:4], "little"),
        scheme=header[4],
        unpacked_size=int.from_bytes(header[5:8], "little"),
    )


def _check_chunk_header(header: ChunkHeader, where: str) -> CompressionScheme:
    if header.version != CHUNK_RECORD_VERSION:
        raise XetFormatError(f"{where}: unknown chunk record version {header.version}")
    try:
        scheme = CompressionScheme(header.scheme)
    except ValueError:
        raise XetFormatError(f"{where}: unknown compression scheme {header.scheme}") from None
    if not 1 <= header.unpacked_size <= MAX_CHUNK_BYTES:
        raise XetSizeLimitError(f"{where}: unpacked size {header.unpacked_size} outside 1..{MAX_CHUNK_BYTES}")
    if header.compressed_size == 0:
        raise XetFormatError(f"{where}: empty payload")
    if scheme is CompressionScheme.NONE and header.compressed_size != header.unpacked_size:
        raise XetFormatError(
            f"{where}: uncompressed chunk with compressed size {header.compressed_size} "
            f"!= unpacked size {header.unpacked_size}"
        )
    if header.compressed_size > MAX_COMPRESSED_CHUNK_BYTES:
        raise XetSizeLimitError(f"{where}: compressed size {header.compressed_size} over {MAX_COMPRESSED_CHUNK_BYTES}")
    return scheme


def bg4_split(data: bytes) -> bytes:
    """Byte-group ``data`` into 4 groups (every 4th byte, from offsets 0..3), concatenated."""
    return b"".join(data[i::4] for i in range(4))


def bg4_regroup(grouped: bytes | bytearray | memoryview) -> bytes:
    """Invert :func:`bg4_split`: group ``i`` holds ``n // 4 + (i < n % 4)`` bytes that go to ``out[i::4]``."""
    n = len(grouped)
    base, extra = divmod(n, 4)
    out = bytearray(n)
    pos = 0
    for i in range(4):
        size = base + (1 if i < extra else 0)
        out[i::4] = grouped[pos : pos + size]
        pos += size
    return bytes(out)


def _lz4_frame_decode(payload: bytes, unpacked_size: int, where: str) -> bytes:
    # Decompress at most one byte more than announced, so a bomb cannot allocate more.
    decompressor = lz4.frame.LZ4FrameDecompressor()
    try:
        data = decompressor.decompress(payload, max_length=unpacked_size + 1)
    except RuntimeError as exc:
        raise XetFormatError(f"{where}: corrupt LZ4 frame ({exc})") from None
    if len(data) != unpacked_size:
        raise XetFormatError(f"{where}: decompresses to {len(data)} bytes, header says {unpacked_size}")
    if not decompressor.eof:
        raise XetFormatError(f"{where}: LZ4 frame is incomplete")
    if decompressor.unused_data:
        raise XetFormatError(f"{where}: {len(decompressor.unused_data)} bytes after the LZ4 frame")
    return data


def decode_chunk_payload(scheme: int, payload: bytes, unpacked_size: int, where: str = "chunk") -> bytes:
    """Decode one record payload to the chunk's raw bytes, checking its length."""
    if scheme == CompressionScheme.NONE:
        if len(payload) != unpacked_size:
            raise XetFormatError(f"{where}: {len(payload)} payload bytes, header says {unpacked_size}")
        return payload
    if scheme == CompressionScheme.LZ4:
        return _lz4_frame_decode(payload, unpacked_size, where)
    if scheme == CompressionScheme.BG4_LZ4:
        return bg4_regroup(_lz4_frame_decode(payload, unpacked_size, where))
    raise XetFormatError(f"{where}: unknown compression scheme {scheme}")


def encode_chunk_record(data: bytes, scheme: CompressionScheme) -> bytes:
    """One chunk record (header + payload) for ``data`` in the given scheme."""
    if not 1 <= len(data) <= MAX_CHUNK_BYTES:
        raise XetSizeLimitError(f"chunk of {len(data)} bytes outside 1..{MAX_CHUNK_BYTES}")
    if scheme is CompressionScheme.NONE:
        payload = bytes(data)
    elif scheme is CompressionScheme.LZ4:
        payload = lz4.frame.compress(data)
    else:
        payload = lz4.frame.compress(bg4_split(data))
    header = (
        bytes([CHUNK_RECORD_VERSION])
        + len(payload).to_bytes(3, "little")
        + bytes([scheme])
        + len(data).to_bytes(3, "little")
    )
    return header + payload


def parse_xorb(
    stream: BinaryIO,
    expected_hash: bytes | None,
    *,
    copy_to: BinaryIO | None = None,
    max_body_bytes: int = MAX_XORB_BODY_BYTES,
) -> XorbInfo:
    """Parse, decompress and hash an uploaded xorb read from ``stream``; verify its hash.

    ``expected_hash`` is the raw hash from the upload URL (``None`` only to index an object whose
    hash is unknown). When ``copy_to`` is given, every record byte read is written to it, so the
    caller can store the object in the same pass; footer bytes are not copied and are not read.
    On any error ``copy_to`` holds a partial copy, which the caller must discard.

    Raises :class:`XetFormatError` (malformed, truncated, empty), :class:`XetSizeLimitError`
    (body, chunk count or chunk size over the limits) or :class:`XetHashMismatch` (the chunks
    hash to another xorb hash than ``expected_hash``).
    """
    chunks: list[ChunkEntry] = []
    schemes: Counter[CompressionScheme] = Counter()
    offset = 0
    unpacked_total = 0
    has_footer = False
    while True:
        raw_header = read_up_to(stream, CHUNK_HEADER_SIZE)
        if not raw_header:
            break
        if raw_header.startswith(FOOTER_MAGIC):
            has_footer = True
            break
        index = len(chunks)
        where = f"chunk {index} at byte {offset}"
        if len(raw_header) != CHUNK_HEADER_SIZE:
            raise XetFormatError(f"{where}: truncated header ({len(raw_header)} of {CHUNK_HEADER_SIZE} bytes)")
        header = parse_chunk_header(raw_header)
        scheme = _check_chunk_header(header, where)
        record_end = offset + CHUNK_HEADER_SIZE + header.compressed_size
        if record_end > max_body_bytes:
            raise XetSizeLimitError(f"{where}: xorb body exceeds {max_body_bytes} bytes")
        if index >= MAX_XORB_CHUNKS:
            raise XetSizeLimitError(f"{where}: xorb has more than {MAX_XORB_CHUNKS} chunks")
        unpacked_total += header.unpacked_size
        if unpacked_total > MAX_XORB_UNPACKED_BYTES:
            raise XetSizeLimitError(f"{where}: xorb unpacks to more than {MAX_XORB_UNPACKED_BYTES} bytes")
        payload = read_exact(stream, header.compressed_size, f"{where} payload")
        data = decode_chunk_payload(scheme, payload, header.unpacked_size, where)
        chunks.append(ChunkEntry(chunk_hash(data), header.unpacked_size, offset, record_end))
        schemes[scheme] += 1
        if copy_to is not None:
            copy_to.write(raw_header)
            copy_to.write(payload)
        offset = record_end

    if not chunks:
        raise XetFormatError("xorb has no chunks")
    actual = xorb_hash([(c.hash, c.unpacked_size) for c in chunks])
    if expected_hash is not None and actual != expected_hash:
        expected_hex, actual_hex = hash_to_hex(expected_hash), hash_to_hex(actual)
        raise XetHashMismatch(
            f"xorb content hashes to {actual_hex}, not {expected_hex}", expected=expected_hex, actual=actual_hex
        )
    return XorbInfo(
        hash=actual,
        chunks=tuple(chunks),
        stored_size=offset,
        unpacked_size=unpacked_total,
        schemes=schemes,
        has_footer=has_footer,
    )


def iter_chunk_data(
    stream: BinaryIO,
    chunks: Sequence[ChunkEntry],
    *,
    verify_hashes: bool = False,
) -> Iterator[bytes]:
    """Decode consecutive stored records back to raw chunk bytes, one chunk per item.

    ``stream`` yields the stored bytes from ``chunks[0].byte_start`` on (e.g. a ``Range`` read of
    ``byte_start..byte_end-1`` of the stored xorb); ``chunks`` are the consecutive table entries it
    covers. Each record is checked against its table entry (size, boundaries, and with
    ``verify_hashes`` the chunk hash, to catch storage corruption). Raises :class:`XetFormatError`.
    """
    for expected in chunks:
        where = f"stored chunk at byte {expected.byte_start}"
        header = parse_chunk_header(read_exact(stream, CHUNK_HEADER_SIZE, f"{where} header"))
        scheme = _check_chunk_header(header, where)
        if (
            header.unpacked_size != expected.unpacked_size
            or expected.byte_start + CHUNK_HEADER_SIZE + header.compressed_size != expected.byte_end
        ):
            raise XetFormatError(f"{where}: record does not match the chunk table")
        payload = read_exact(stream, header.compressed_size, f"{where} payload")
        data = decode_chunk_payload(scheme, payload, header.unpacked_size, where)
        if verify_hashes and chunk_hash(data) != expected.hash:
            raise XetFormatError(f"{where}: content does not match chunk hash {hash_to_hex(expected.hash)}")
        yield data
