"""The two index records the server keeps: a xorb's chunk table and a file's terms.

Both are plain immutable tuples so they are cheap to hold in bulk, and both have a compact binary
encoding (:func:`pack_chunk_table`, :func:`pack_terms`) for storing a whole table in one database
column or one sidecar object instead of one row per chunk.
"""

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

from .errors import XetFormatError
from .hashing import HASH_SIZE, hash_to_hex


class ChunkEntry(NamedTuple):
    """One chunk of a stored xorb.

    ``byte_start``/``byte_end`` (end-exclusive) delimit the chunk's whole record — 8-byte header plus
    compressed payload — in the stored xorb object, i.e. in the byte stream as it was uploaded.
    """

    hash: bytes
    unpacked_size: int
    byte_start: int
    byte_end: int


class FileTerm(NamedTuple):
    """One term of a file: chunks ``[chunk_start, chunk_end)`` of a xorb, ``unpacked_bytes`` long."""

    xorb_hash: bytes
    chunk_start: int
    chunk_end: int
    unpacked_bytes: int

    @property
    def xorb_hash_hex(self) -> str:
        return hash_to_hex(self.xorb_hash)


# Returns the chunk table of a stored xorb, or None when the server does not hold it. A plain
# ``dict.get`` over tables fetched in one query is the intended implementation.
ChunkTableLookup = Callable[[bytes], Sequence[ChunkEntry] | None]

# Both records are 44 bytes: a hash and three u32 (chunk: unpacked size, record start, record end;
# term: chunk start, chunk end, unpacked bytes).
_RECORD = struct.Struct(f"<{HASH_SIZE}sIII")


def _unpack(blob: bytes, what: str) -> Iterator[tuple[bytes, int, int, int]]:
    if len(blob) % _RECORD.size:
        raise XetFormatError(f"{what} blob of {len(blob)} bytes is not a multiple of {_RECORD.size}")
    return _RECORD.iter_unpack(blob)


def pack_chunk_table(chunks: Iterable[ChunkEntry]) -> bytes:
    """Encode a chunk table as 44 bytes per chunk (hash, unpacked size, record start, record end)."""
    return b"".join(_RECORD.pack(*chunk) for chunk in chunks)


def unpack_chunk_table(blob: bytes) -> list[ChunkEntry]:
    """Decode :func:`pack_chunk_table` output; raise :class:`XetFormatError` on a bad length."""
    return [ChunkEntry(*fields) for fields in _unpack(blob, "chunk table")]


def pack_terms(terms: Iterable[FileTerm]) -> bytes:
    """Encode a file's terms as 44 bytes per term (xorb hash, chunk start, chunk end, unpacked bytes)."""
    return b"".join(_RECORD.pack(*term) for term in terms)


def unpack_terms(blob: bytes) -> list[FileTerm]:
    """Decode :func:`pack_terms` output; raise :class:`XetFormatError` on a bad length."""
    return [FileTerm(*fields) for fields in _unpack(blob, "term list")]
