"""Xorb parsing: chunk tables, schemes, footer, limits, tampering, streaming memory."""

import io
import random
import tracemalloc

import lz4.frame
import pytest

from registry.xet.errors import XetFormatError, XetHashMismatch, XetSizeLimitError
from registry.xet.hashing import chunk_hash, hash_from_hex, hash_to_hex, xorb_hash
from registry.xet.types import ChunkEntry
from registry.xet.xorb import (
    CHUNK_HEADER_SIZE,
    MAX_CHUNK_BYTES,
    MAX_COMPRESSED_CHUNK_BYTES,
    MAX_XORB_CHUNKS,
    MAX_XORB_UNPACKED_BYTES,
    CompressionScheme,
    bg4_regroup,
    bg4_split,
    encode_chunk_record,
    iter_chunk_data,
    parse_chunk_header,
    parse_xorb,
)

NONE, LZ4, BG4 = CompressionScheme.NONE, CompressionScheme.LZ4, CompressionScheme.BG4_LZ4


def _header(csize: int, scheme: int, usize: int, version: int = 0) -> bytes:
    return bytes([version]) + csize.to_bytes(3, "little") + bytes([scheme]) + usize.to_bytes(3, "little")


def _chunks(seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [
        rng.randbytes(1000),
        b"weights " * 700,
        bytes(rng.choice(b"\x00\x01\x02") for _ in range(4099)),
        rng.randbytes(3),
    ]


def _xorb(chunks: list[bytes], schemes: list[CompressionScheme]) -> tuple[bytes, bytes]:
    body = b"".join(encode_chunk_record(c, s) for c, s in zip(chunks, schemes, strict=True))
    return body, xorb_hash([(chunk_hash(c), len(c)) for c in chunks])


class ShortReads(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read, like a socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(self._step if size < 0 else min(size, self._step))


def test_bg4_split_groups_every_fourth_byte():
    assert bg4_split(b"abcdefghij") == b"aei" + b"bfj" + b"cg" + b"dh"
    assert bg4_regroup(b"aeibfjcgdh") == b"abcdefghij"


@pytest.mark.parametrize("length", range(10))
def test_bg4_regroup_inverts_split_for_every_remainder(length):
    data = bytes(range(1, length + 1))
    assert bg4_regroup(bg4_split(data)) == data


def test_lz4_payloads_are_frames_not_blocks():
    record = encode_chunk_record(b"abc" * 100, LZ4)
    header = parse_chunk_header(record[:CHUNK_HEADER_SIZE])
    assert (header.version, header.compressed_size, header.scheme, header.unpacked_size) == (0, len(record) - 8, 1, 300)
    assert lz4.frame.decompress(record[CHUNK_HEADER_SIZE:]) == b"abc" * 100


def test_parse_returns_the_chunk_table_with_record_offsets():
    chunks = _chunks()
    body, expected = _xorb(chunks, [NONE, LZ4, BG4, NONE])
    info = parse_xorb(io.BytesIO(body), expected)
    assert info.hash == expected
    assert info.hash_hex == hash_to_hex(expected)
    offsets, start = [], 0
    for c, s in zip(chunks, [NONE, LZ4, BG4, NONE], strict=True):
        end = start + len(encode_chunk_record(c, s))
        offsets.append((start, end))
        start = end
    assert info.chunks == tuple(
        ChunkEntry(chunk_hash(c), len(c), s, e) for c, (s, e) in zip(chunks, offsets, strict=True)
    )
    assert info.stored_size == len(body)
    assert info.unpacked_size == sum(len(c) for c in chunks)
    assert info.schemes == {NONE: 2, LZ4: 1, BG4: 1}
    assert info.has_footer is False


def test_parse_survives_short_reads_and_copies_the_records():
    body, expected = _xorb(_chunks(), [BG4, LZ4, BG4, NONE])
    copy = io.BytesIO()
    info = parse_xorb(ShortReads(body, 7), expected, copy_to=copy)
    assert info.hash == expected
    assert copy.getvalue() == body


def test_parsing_stops_at_a_footer_and_does_not_copy_it():
    body, expected = _xorb(_chunks(), [NONE, LZ4, BG4, NONE])
    copy = io.BytesIO()
    info = parse_xorb(io.BytesIO(body + b"XETBLOB\x01" + b"\x00" * 100), expected, copy_to=copy)
    assert info.has_footer is True
    assert info.stored_size == len(body)
    assert copy.getvalue() == body


def test_a_xorb_posted_under_another_hash_is_a_hash_mismatch():
    body, expected = _xorb(_chunks(), [NONE, LZ4, BG4, NONE])
    other = hash_from_hex("ab" * 32)
    with pytest.raises(XetHashMismatch, match=f"hashes to {hash_to_hex(expected)}, not {'ab' * 32}") as caught:
        parse_xorb(io.BytesIO(body), other)
    assert (caught.value.expected, caught.value.actual) == ("ab" * 32, hash_to_hex(expected))


def test_a_flipped_byte_in_a_real_client_xorb_is_a_hash_mismatch(client_corpus):
    cas = client_corpus.cas
    term = cas.files[hash_from_hex(client_corpus.items["random_9mb"].uploaded.file_hash)].terms[0]
    body = bytearray(cas.xorb_bodies[term.xorb_hash_hex])
    chunk = cas.tables[term.xorb_hash][term.chunk_start + 5]
    assert parse_chunk_header(bytes(body[chunk.byte_start : chunk.byte_start + 8])).scheme == NONE
    body[chunk.byte_start + CHUNK_HEADER_SIZE + 100] ^= 0x01
    with pytest.raises(XetHashMismatch) as caught:
        parse_xorb(io.BytesIO(bytes(body)), term.xorb_hash)
    assert caught.value.expected == term.xorb_hash_hex
    assert caught.value.actual != term.xorb_hash_hex


@pytest.mark.parametrize("cut", [1, 7, CHUNK_HEADER_SIZE + 1, 1010, 1020])  # chunk 0 record is 1008 bytes
def test_truncated_xorbs_are_format_errors(cut):
    body, expected = _xorb(_chunks(), [NONE, LZ4, BG4, NONE])
    with pytest.raises(XetFormatError, match="truncated"):
        parse_xorb(io.BytesIO(body[:cut]), expected)


def test_a_truncated_real_client_xorb_is_a_format_error(client_corpus):
    url_hash, body = next(iter(client_corpus.cas.xorb_bodies.items()))
    with pytest.raises(XetFormatError, match=r"chunk \d+ at byte \d+ payload: expected \d+ bytes, got \d+"):
        parse_xorb(io.BytesIO(body[: len(body) // 2]), hash_from_hex(url_hash))


@pytest.mark.parametrize(
    ("record", "error", "message"),
    [
        (_header(4, 0, 4, version=1) + b"abcd", XetFormatError, "unknown chunk record version 1"),
        (_header(4, 3, 4) + b"abcd", XetFormatError, "unknown compression scheme 3"),
        (_header(0, 0, 0), XetSizeLimitError, "unpacked size 0 outside"),
        (_header(4, 0, MAX_CHUNK_BYTES + 1) + b"abcd", XetSizeLimitError, f"unpacked size {MAX_CHUNK_BYTES + 1}"),
        (_header(0, 1, 4), XetFormatError, "empty payload"),
        (_header(3, 0, 4) + b"abc", XetFormatError, "compressed size 3 != unpacked size 4"),
        (_header(200_000, 1, 4) + b"a" * 16, XetSizeLimitError, "compressed size 200000 over"),
        (_header(8, 1, 4) + b"\x00" * 8, XetFormatError, "corrupt LZ4 frame"),
        (b"\x97" * 64, XetFormatError, "unknown chunk record version 151"),
    ],
)
def test_malformed_records_are_rejected(record, error, message):
    with pytest.raises(error, match=message):
        parse_xorb(io.BytesIO(record), None)


def test_lz4_frame_of_another_length_is_rejected():
    frame = lz4.frame.compress(b"x" * 50)
    with pytest.raises(XetFormatError, match="decompresses to 50 bytes, header says 60"):
        parse_xorb(io.BytesIO(_header(len(frame), 1, 60) + frame), None)


def test_lz4_bomb_stops_one_byte_past_the_announced_size():
    frame = lz4.frame.compress(bytes(16 * 1024 * 1024))
    assert len(frame) < MAX_COMPRESSED_CHUNK_BYTES
    tracemalloc.start()
    try:
        with pytest.raises(XetFormatError, match="decompresses to 1001 bytes, header says 1000"):
            parse_xorb(io.BytesIO(_header(len(frame), 1, 1000) + frame), None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_bytes_after_the_lz4_frame_are_rejected():
    payload = lz4.frame.compress(b"y" * 40) + b"junk"
    with pytest.raises(XetFormatError, match="4 bytes after the LZ4 frame"):
        parse_xorb(io.BytesIO(_header(len(payload), 2, 40) + payload), None)


def test_an_empty_xorb_is_rejected():
    with pytest.raises(XetFormatError, match="xorb has no chunks"):
        parse_xorb(io.BytesIO(b""), None)


def test_body_limit():
    body, expected = _xorb(_chunks(), [NONE, NONE, NONE, NONE])
    with pytest.raises(XetSizeLimitError, match="chunk 1 at byte 1008: xorb body exceeds 6000 bytes"):
        parse_xorb(io.BytesIO(body), expected, max_body_bytes=6000)


def test_chunk_count_limit():
    body = (encode_chunk_record(b"z", NONE)) * (MAX_XORB_CHUNKS + 1)
    with pytest.raises(XetSizeLimitError, match=f"more than {MAX_XORB_CHUNKS} chunks"):
        parse_xorb(io.BytesIO(body), None)


def test_unpacked_size_limit():
    record = encode_chunk_record(bytes(MAX_CHUNK_BYTES), LZ4)  # compresses to almost nothing
    body = record * (MAX_XORB_UNPACKED_BYTES // MAX_CHUNK_BYTES + 1)
    with pytest.raises(XetSizeLimitError, match=f"unpacks to more than {MAX_XORB_UNPACKED_BYTES} bytes"):
        parse_xorb(io.BytesIO(body), None)


def test_a_64_mib_xorb_parses_in_bounded_memory(tmp_path):
    rng = random.Random(64)
    count = MAX_XORB_UNPACKED_BYTES // MAX_CHUNK_BYTES
    leaves = []
    path = tmp_path / "xorb"
    with path.open("wb") as out:
        for i in range(count):
            scheme = [NONE, LZ4, BG4][i % 3]
            data = rng.randbytes(MAX_CHUNK_BYTES) if scheme is NONE else bytes(rng.randbytes(64)) * 2048
            out.write(encode_chunk_record(data, scheme))
            leaves.append((chunk_hash(data), len(data)))
    expected = xorb_hash(leaves)
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            info = parse_xorb(stream, expected)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert info.unpacked_size == MAX_XORB_UNPACKED_BYTES
    assert len(info.chunks) == count
    assert peak < 8 * 1024 * 1024


def test_iter_chunk_data_decodes_a_stored_range():
    chunks = _chunks()
    body, expected = _xorb(chunks, [NONE, LZ4, BG4, NONE])
    table = parse_xorb(io.BytesIO(body), expected).chunks
    stored = io.BytesIO(body[table[1].byte_start : table[2].byte_end])
    assert list(iter_chunk_data(stored, table[1:3], verify_hashes=True)) == chunks[1:3]


def test_iter_chunk_data_rejects_records_that_do_not_match_the_table():
    body, expected = _xorb(_chunks(), [NONE, LZ4, BG4, NONE])
    table = parse_xorb(io.BytesIO(body), expected).chunks
    shifted = io.BytesIO(body[table[1].byte_start :])
    with pytest.raises(XetFormatError, match="record does not match the chunk table"):
        list(iter_chunk_data(shifted, table[0:1]))


def test_iter_chunk_data_detects_storage_corruption_only_when_verifying():
    chunks = _chunks()
    body, expected = _xorb(chunks, [NONE, LZ4, BG4, NONE])
    table = parse_xorb(io.BytesIO(body), expected).chunks
    corrupt = bytearray(body)
    corrupt[CHUNK_HEADER_SIZE + 10] ^= 0xFF  # inside chunk 0, stored uncompressed
    decoded = list(iter_chunk_data(io.BytesIO(bytes(corrupt)), table))
    assert decoded[0] != chunks[0]
    assert decoded[1:] == chunks[1:]
    with pytest.raises(XetFormatError, match=f"does not match chunk hash {hash_to_hex(table[0].hash)}"):
        list(iter_chunk_data(io.BytesIO(bytes(corrupt)), table, verify_hashes=True))
