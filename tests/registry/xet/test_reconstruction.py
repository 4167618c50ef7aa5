"""The reconstruction answer from a hand-made index, and server-side streaming of file content."""

import hashlib
import io

import pytest

from registry.xet.errors import (
    XetChunkRangeError,
    XetFormatError,
    XetMissingXorb,
    XetRangeNotSatisfiable,
    XetSha256Mismatch,
)
from registry.xet.hashing import hash_to_hex
from registry.xet.reconstruction import (
    iter_file_content,
    parse_range_header,
    reconstruct_file,
    reconstruction_response,
)
from registry.xet.types import ChunkEntry, FileTerm
from registry.xet.xorb import CompressionScheme, encode_chunk_record, parse_xorb

XA, XB = b"\xaa" * 32, b"\xbb" * 32
HA, HB = hash_to_hex(XA), hash_to_hex(XB)


def _table(sizes: list[int], first_record: int = 0) -> list[ChunkEntry]:
    """Chunks whose records are 8 header bytes plus half their size (as if compressed 2:1)."""
    table, position = [], first_record
    for i, size in enumerate(sizes):
        end = position + 8 + size // 2
        table.append(ChunkEntry(bytes([i]) * 32, size, position, end))
        position = end
    return table


TABLES = {XA: _table([10, 20, 30, 40]), XB: _table([6, 6, 6])}
# File layout: A[0,2) bytes 0..29 | B[0,3) bytes 30..47 | A[1,4) bytes 48..137; size 138.
TERMS = [FileTerm(XA, 0, 2, 30), FileTerm(XB, 0, 3, 18), FileTerm(XA, 1, 4, 90)]


def _url(xorb_hex: str, start: int, last: int) -> str:
    return f"https://data/{xorb_hex}?bytes={start}-{last}"


def _answer(byte_range=None, terms=TERMS):
    return reconstruction_response(terms, TABLES.get, _url, byte_range=byte_range)


def _fetch(xorb_hex: str, start_chunk: int, end_chunk: int) -> dict:
    table = TABLES[XA if xorb_hex == HA else XB]
    first, last = table[start_chunk].byte_start, table[end_chunk - 1].byte_end - 1
    return {
        "range": {"start": start_chunk, "end": end_chunk},
        "url": _url(xorb_hex, first, last),
        "url_range": {"start": first, "end": last},
    }


def _term(xorb_hex: str, start: int, end: int, length: int) -> dict:
    return {"hash": xorb_hex, "unpacked_length": length, "range": {"start": start, "end": end}}


def test_whole_file_merges_overlapping_chunk_ranges_per_xorb():
    assert _answer() == {
        "offset_into_first_range": 0,
        "terms": [_term(HA, 0, 2, 30), _term(HB, 0, 3, 18), _term(HA, 1, 4, 90)],
        "fetch_info": {HA: [_fetch(HA, 0, 4)], HB: [_fetch(HB, 0, 3)]},
    }
    assert _answer((0, 137)) == _answer()
    assert _answer((0, None)) == _answer()
    assert _answer((0, 10_000)) == _answer()


def test_range_keeps_whole_chunks_and_offsets_into_the_first():
    # Bytes 15..40: chunk A1 (10..29) from offset 5, then B0..B1 (30..41).
    assert _answer((15, 40)) == {
        "offset_into_first_range": 5,
        "terms": [_term(HA, 1, 2, 20), _term(HB, 0, 2, 12)],
        "fetch_info": {HA: [_fetch(HA, 1, 2)], HB: [_fetch(HB, 0, 2)]},
    }


def test_range_on_chunk_boundaries():
    # Bytes 30..47 are exactly the B term.
    assert _answer((30, 47)) == {
        "offset_into_first_range": 0,
        "terms": [_term(HB, 0, 3, 18)],
        "fetch_info": {HB: [_fetch(HB, 0, 3)]},
    }


def test_range_inside_one_chunk():
    # Bytes 100..101 lie in A3 (file bytes 98..137).
    assert _answer((100, 101)) == {
        "offset_into_first_range": 2,
        "terms": [_term(HA, 3, 4, 40)],
        "fetch_info": {HA: [_fetch(HA, 3, 4)]},
    }


def test_last_byte():
    assert _answer((137, 137))["terms"] == [_term(HA, 3, 4, 40)]
    assert _answer((137, 137))["offset_into_first_range"] == 39


def test_disjoint_ranges_of_one_xorb_get_one_fetch_entry_each():
    terms = [FileTerm(XA, 0, 1, 10), FileTerm(XB, 0, 1, 6), FileTerm(XA, 3, 4, 40)]
    assert _answer(terms=terms)["fetch_info"] == {HA: [_fetch(HA, 0, 1), _fetch(HA, 3, 4)], HB: [_fetch(HB, 0, 1)]}


def test_adjacent_ranges_merge():
    terms = [FileTerm(XA, 0, 2, 30), FileTerm(XA, 2, 4, 70)]
    assert _answer(terms=terms)["fetch_info"] == {HA: [_fetch(HA, 0, 4)]}


def test_url_builder_gets_the_inclusive_byte_range():
    calls = []

    def url_for(xorb_hex, start, last):
        calls.append((xorb_hex, start, last))
        return "u"

    reconstruction_response(TERMS, TABLES.get, url_for, byte_range=(30, 47))
    assert calls == [(HB, 0, TABLES[XB][2].byte_end - 1)]


@pytest.mark.parametrize("start", [138, 139, 10**12])
def test_range_starting_past_the_end_is_not_satisfiable(start):
    with pytest.raises(XetRangeNotSatisfiable, match=f"range starts at byte {start}, file has 138 bytes") as caught:
        _answer((start, None))
    assert caught.value.file_size == 138


def test_empty_file():
    assert _answer(terms=[]) == {"offset_into_first_range": 0, "terms": [], "fetch_info": {}}
    with pytest.raises(XetRangeNotSatisfiable):
        _answer((0, 0), terms=[])


def test_inconsistent_index():
    with pytest.raises(XetMissingXorb, match=f"xorb {'cc' * 32} is not stored"):
        _answer(terms=[FileTerm(b"\xcc" * 32, 0, 1, 10)])
    with pytest.raises(XetChunkRangeError, match=r"chunk range \[2, 5\) is not inside"):
        _answer(terms=[FileTerm(XA, 2, 5, 70)])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=5-", (5, None)),
        ("bytes = 7 - 7", (7, 7)),
    ],
)
def test_parse_range_header(header, expected):
    assert parse_range_header(header) == expected


@pytest.mark.parametrize("header", ["bytes=-5", "bytes=0-1,3-4", "items=0-1", "bytes=a-b", ""])
def test_unsupported_range_headers(header):
    with pytest.raises(XetFormatError, match="unsupported Range header"):
        parse_range_header(header)


def test_reversed_range_header():
    with pytest.raises(XetFormatError, match="Range end 3 is before its start 9"):
        parse_range_header("bytes=9-3")


# -- streaming content -------------------------------------------------------------------------


class StoredXorbs:
    """Stored xorb objects plus a range opener that records what it opened and closed."""

    def __init__(self, chunks_by_xorb: list[list[tuple[bytes, CompressionScheme]]]) -> None:
        self.bodies: dict[bytes, bytes] = {}
        self.tables = {}
        self.opened: list[tuple[str, int, int]] = []
        self.closed = 0
        for chunks in chunks_by_xorb:
            body = b"".join(encode_chunk_record(data, scheme) for data, scheme in chunks)
            info = parse_xorb(io.BytesIO(body), None)
            self.bodies[info.hash] = body
            self.tables[info.hash] = info.chunks

    def open_range(self, xorb_hash: bytes, start: int, end: int) -> io.BytesIO:
        self.opened.append((hash_to_hex(xorb_hash), start, end))
        stored = self

        class Tracked(io.BytesIO):
            def close(self) -> None:
                stored.closed += 1
                super().close()

        return Tracked(self.bodies[xorb_hash][start:end])


@pytest.fixture
def stored():
    none, lz4, bg4 = CompressionScheme.NONE, CompressionScheme.LZ4, CompressionScheme.BG4_LZ4
    return StoredXorbs(
        [
            [(b"alpha " * 50, lz4), (b"beta", none), (bytes(range(256)) * 3, bg4)],
            [(b"gamma" * 7, bg4), (b"delta", none)],
        ]
    )


def test_iter_file_content_reads_one_range_per_term_and_closes_it(stored):
    first, second = list(stored.tables)
    terms = [FileTerm(first, 1, 3, 4 + 768), FileTerm(second, 0, 2, 40), FileTerm(first, 0, 1, 300)]
    content = b"".join(iter_file_content(terms, stored.tables.get, stored.open_range))
    assert content == b"beta" + bytes(range(256)) * 3 + b"gamma" * 7 + b"delta" + b"alpha " * 50
    table = stored.tables[first]
    assert stored.opened[0] == (hash_to_hex(first), table[1].byte_start, table[2].byte_end)
    assert len(stored.opened) == 3
    assert stored.closed == 3


def test_reconstruct_file_writes_and_hashes(stored):
    first, _ = list(stored.tables)
    terms = [FileTerm(first, 0, 3, 300 + 4 + 768)]
    expected = b"alpha " * 50 + b"beta" + bytes(range(256)) * 3
    out = io.BytesIO()
    result = reconstruct_file(
        terms, stored.tables.get, stored.open_range, dest=out, expected_sha256=hashlib.sha256(expected).hexdigest()
    )
    assert out.getvalue() == expected
    assert (result.sha256, result.size) == (hashlib.sha256(expected).hexdigest(), len(expected))


def test_reconstruct_file_rejects_a_false_sha256(stored):
    first, _ = list(stored.tables)
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(XetSha256Mismatch, match=f"shard declared {wrong}"):
        reconstruct_file([FileTerm(first, 1, 2, 4)], stored.tables.get, stored.open_range, expected_sha256=wrong)


def test_storage_corruption_is_caught_when_verifying_chunk_hashes(stored):
    first, _ = list(stored.tables)
    beta = stored.tables[first][1]
    body = bytearray(stored.bodies[first])
    body[beta.byte_start + 8] ^= 0x20  # "beta" -> "Beta", same length, still a valid record
    stored.bodies[first] = bytes(body)
    terms = [FileTerm(first, 1, 2, 4)]
    assert b"".join(iter_file_content(terms, stored.tables.get, stored.open_range)) == b"Beta"
    with pytest.raises(XetFormatError, match="does not match chunk hash"):
        reconstruct_file(terms, stored.tables.get, stored.open_range, verify_chunk_hashes=True)
    assert stored.closed == 2
