"""File reconstruction: the ``/v1/reconstructions`` answer, and server-side streaming of file content.

A file is stored as its terms (``FileTerm``: xorb, chunk range, unpacked bytes); each xorb as its
chunk table (``ChunkEntry``). Everything here works from those two indexes plus, for streaming,
a callable that opens a byte range of a stored xorb object.
"""

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from .errors import XetChunkRangeError, XetFormatError, XetMissingXorb, XetRangeNotSatisfiable, XetSha256Mismatch
from .hashing import hash_to_hex
from .types import ChunkEntry, ChunkTableLookup, FileTerm
from .xorb import iter_chunk_data

# Builds the self-authorising URL for bytes ``start..end`` (inclusive) of a stored xorb object,
# given its hash in text form. Binding the URL to the range matters: xorbs are shared across
# files and repos, so a reader of one file must not be able to fetch another file's chunks.
FetchUrlBuilder = Callable[[str, int, int], str]

# Opens bytes ``start..end - 1`` (end-exclusive) of the stored xorb object with the given raw hash,
# returning a readable binary stream positioned at ``start``. The stream is closed after use.
XorbRangeOpener = Callable[[bytes, int, int], BinaryIO]

_RANGE_HEADER = re.compile(r"^\s*bytes\s*=\s*(\d+)\s*-\s*(\d*)\s*$")


def parse_range_header(value: str | None) -> tuple[int, int | None] | None:
    """Parse ``Range: bytes=a-b`` or ``bytes=a-`` into ``(a, b)``/``(a, None)`` (``b`` inclusive).

    ``None`` (no header) gives ``None``. Suffix ranges (``bytes=-n``) and multiple ranges are not
    used by the Xet client and raise :class:`XetFormatError`, as do reversed ranges.
    """
    if value is None:
        return None
    match = _RANGE_HEADER.match(value)
    if not match:
        raise XetFormatError(f"unsupported Range header {value[:100]!r}")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else None
    if end is not None and end < start:
        raise XetFormatError(f"Range end {end} is before its start {start}")
    return start, end


def file_size(terms: Sequence[FileTerm]) -> int:
    return sum(term.unpacked_bytes for term in terms)


def _table_for(term: FileTerm, lookup: ChunkTableLookup) -> Sequence[ChunkEntry]:
    table = lookup(term.xorb_hash)
    xorb_hex = term.xorb_hash_hex
    if table is None:
        raise XetMissingXorb(f"xorb {xorb_hex} is not stored", xorb_hash=xorb_hex)
    if not 0 <= term.chunk_start < term.chunk_end <= len(table):
        raise XetChunkRangeError(
            f"chunk range [{term.chunk_start}, {term.chunk_end}) is not inside xorb {xorb_hex} of {len(table)} chunks"
        )
    return table


@dataclass(frozen=True)
class _Piece:
    """The chunks ``[start, end)`` of one term that overlap the requested byte range."""

    xorb_hash: bytes
    start: int
    end: int
    unpacked_length: int


def _select_pieces(
    terms: Sequence[FileTerm], lookup: ChunkTableLookup, first: int, last: int
) -> tuple[int, list[_Piece]]:
    """Whole chunks covering file bytes ``first..last`` (inclusive), and where ``first`` falls in them."""
    pieces: list[_Piece] = []
    offset_into_first = 0
    position = 0  # file offset of the current term's first byte
    for term in terms:
        term_end = position + term.unpacked_bytes
        if term_end <= first:
            position = term_end
            continue
        if position > last:
            break
        table = _table_for(term, lookup)
        chunk_pos = position
        kept_start = kept_end = None
        kept_bytes = 0
        for index in range(term.chunk_start, term.chunk_end):
            size = table[index].unpacked_size
            if chunk_pos + size > first and chunk_pos <= last:
                if kept_start is None:
                    kept_start = index
                    if not pieces:
                        offset_into_first = first - chunk_pos
                kept_end = index + 1
                kept_bytes += size
            chunk_pos += size
        if kept_start is not None and kept_end is not None:
            pieces.append(_Piece(term.xorb_hash, kept_start, kept_end, kept_bytes))
        position = term_end
    return offset_into_first, pieces


def _merged_fetch_ranges(pieces: Sequence[_Piece]) -> dict[bytes, list[tuple[int, int]]]:
    """Per xorb, the chunk ranges the pieces need, with overlapping or adjacent ranges merged."""
    wanted: dict[bytes, list[tuple[int, int]]] = {}
    for piece in pieces:
        wanted.setdefault(piece.xorb_hash, []).append((piece.start, piece.end))
    merged: dict[bytes, list[tuple[int, int]]] = {}
    for xorb, ranges in wanted.items():
        out: list[tuple[int, int]] = []
        for start, end in sorted(ranges):
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[xorb] = out
    return merged


def reconstruction_response(
    terms: Sequence[FileTerm],
    lookup: ChunkTableLookup,
    url_for: FetchUrlBuilder,
    *,
    byte_range: tuple[int, int | None] | None = None,
) -> dict[str, Any]:
    """The JSON body of ``GET /v1/reconstructions/{file_hash}``.

    ``byte_range`` is the parsed ``Range`` header (inclusive end, clamped to the file), or None for
    the whole file. Terms keep only the whole chunks overlapping the range;
    ``offset_into_first_range`` says how many decoded bytes of the first kept chunk precede the
    range start. ``fetch_info`` lists, per xorb, merged chunk ranges with ``url_range`` (inclusive
    byte offsets of their records in the stored object) and the URL from ``url_for``.

    Raises :class:`XetRangeNotSatisfiable` (416) when the range starts at or past the end of the
    file, and :class:`XetMissingXorb` / :class:`XetChunkRangeError` when the index is inconsistent.
    """
    size = file_size(terms)
    if byte_range is None:
        if size == 0:
            return {"offset_into_first_range": 0, "terms": [], "fetch_info": {}}
        first, last = 0, size - 1
    else:
        first, requested_last = byte_range
        if first >= size:
            raise XetRangeNotSatisfiable(f"range starts at byte {first}, file has {size} bytes", file_size=size)
        last = size - 1 if requested_last is None else min(requested_last, size - 1)

    offset_into_first, pieces = _select_pieces(terms, lookup, first, last)
    fetch_info: dict[str, list[dict[str, Any]]] = {}
    for xorb, ranges in _merged_fetch_ranges(pieces).items():
        table = lookup(xorb)
        assert table is not None  # checked while selecting pieces
        xorb_hex = hash_to_hex(xorb)
        entries = []
        for start, end in ranges:
            byte_start, byte_last = table[start].byte_start, table[end - 1].byte_end - 1
            entries.append(
                {
                    "range": {"start": start, "end": end},
                    "url": url_for(xorb_hex, byte_start, byte_last),
                    "url_range": {"start": byte_start, "end": byte_last},
                }
            )
        fetch_info[xorb_hex] = entries
    return {
        "offset_into_first_range": offset_into_first,
        "terms": [
            {
                "hash": hash_to_hex(p.xorb_hash),
                "unpacked_length": p.unpacked_length,
                "range": {"start": p.start, "end": p.end},
            }
            for p in pieces
        ],
        "fetch_info": fetch_info,
    }


def iter_file_content(
    terms: Sequence[FileTerm],
    lookup: ChunkTableLookup,
    open_range: XorbRangeOpener,
    *,
    verify_chunk_hashes: bool = False,
) -> Iterator[bytes]:
    """Yield the whole file's raw bytes, one chunk at a time, reading one xorb range per term.

    ``verify_chunk_hashes`` re-hashes every chunk against the index (detects storage corruption;
    costs one blake3 pass). Raises :class:`XetFormatError` if a stored record does not match the
    index, :class:`XetMissingXorb` / :class:`XetChunkRangeError` if the index is inconsistent.
    """
    for term in terms:
        table = _table_for(term, lookup)
        chunks = table[term.chunk_start : term.chunk_end]
        stream = open_range(term.xorb_hash, chunks[0].byte_start, chunks[-1].byte_end)
        try:
            yield from iter_chunk_data(stream, chunks, verify_hashes=verify_chunk_hashes)
        finally:
            stream.close()


@dataclass(frozen=True)
class ReconstructedFile:
    sha256: str
    size: int


def reconstruct_file(
    terms: Sequence[FileTerm],
    lookup: ChunkTableLookup,
    open_range: XorbRangeOpener,
    *,
    dest: BinaryIO | None = None,
    expected_sha256: str | None = None,
    verify_chunk_hashes: bool = False,
) -> ReconstructedFile:
    """Stream the file through sha256 (and into ``dest`` when given) and return its digest and size.

    With ``expected_sha256`` (the hexdigest a shard declared), raise :class:`XetSha256Mismatch`
    when the content hashes otherwise: the declared sha256 is not bound to the content by any
    other check, so a file must pass this before it is exposed under that sha256. On a mismatch
    ``dest`` holds the full (wrong) content; the caller discards it.
    """
    digest = hashlib.sha256()
    size = 0
    for data in iter_file_content(terms, lookup, open_range, verify_chunk_hashes=verify_chunk_hashes):
        digest.update(data)
        size += len(data)
        if dest is not None:
            dest.write(data)
    actual = digest.hexdigest()
    if expected_sha256 is not None and actual != expected_sha256.lower():
        raise XetSha256Mismatch(
            f"content hashes to sha256 {actual}, shard declared {expected_sha256}",
            expected=expected_sha256,
            actual=actual,
        )
    return ReconstructedFile(sha256=actual, size=size)
