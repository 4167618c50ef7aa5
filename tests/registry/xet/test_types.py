"""Compact encodings of the index records."""

import pytest

from registry.xet.errors import XetFormatError
from registry.xet.types import ChunkEntry, FileTerm, pack_chunk_table, pack_terms, unpack_chunk_table, unpack_terms


def test_chunk_table_round_trip():
    table = [ChunkEntry(b"\x01" * 32, 65536, 0, 30000), ChunkEntry(b"\x02" * 32, 131072, 30000, 161080)]
    blob = pack_chunk_table(table)
    assert len(blob) == 2 * 44
    assert blob[32:44] == (65536).to_bytes(4, "little") + (0).to_bytes(4, "little") + (30000).to_bytes(4, "little")
    assert unpack_chunk_table(blob) == table


def test_terms_round_trip():
    terms = [FileTerm(b"\x03" * 32, 0, 12, 700_000), FileTerm(b"\x04" * 32, 5, 6, 64)]
    blob = pack_terms(terms)
    assert len(blob) == 2 * 44
    assert unpack_terms(blob) == terms
    assert unpack_terms(blob)[1].xorb_hash_hex == "04" * 32


def test_empty_encodings():
    assert pack_chunk_table([]) == b""
    assert unpack_chunk_table(b"") == []
    assert unpack_terms(b"") == []


@pytest.mark.parametrize("unpack", [unpack_chunk_table, unpack_terms])
def test_bad_blob_length(unpack):
    with pytest.raises(XetFormatError, match="blob of 45 bytes is not a multiple of 44"):
        unpack(bytes(45))
