"""Shard format errors and verification failures, starting from shards the real client sent."""

import dataclasses
import hashlib
import io
import struct

import pytest

from registry.xet.errors import (
    XetChunkRangeError,
    XetFileHashMismatch,
    XetFormatError,
    XetMissingXorb,
    XetSha256Mismatch,
    XetShardError,
    XetSizeLimitError,
    XetUnpackedSizeMismatch,
    XetVerificationHashMismatch,
)
from registry.xet.hashing import hash_from_hex, hash_to_hex, sha256_hex_to_shard, term_verification_hash
from registry.xet.reconstruction import reconstruct_file
from registry.xet.shard import (
    SHARD_FOOTER_SIZE,
    SHARD_HEADER_TAG,
    ShardFile,
    build_shard,
    parse_shard,
    verify_shard,
    verify_shard_file,
)


@pytest.fixture
def spliced(client_corpus) -> ShardFile:
    """The client's shard entry of a file spanning several terms and xorbs (as the server parsed it)."""
    shard_file = client_corpus.cas.files[hash_from_hex(client_corpus.items["spliced"].uploaded.file_hash)]
    assert len(shard_file.terms) >= 3
    return shard_file


def _reparsed(shard_file: ShardFile) -> ShardFile:
    """Round-trip through the binary format so every tampered shard is parsed like an upload."""
    (parsed,) = parse_shard(io.BytesIO(build_shard([shard_file]))).files
    return parsed


def _with_term(shard_file: ShardFile, index: int, **changes: int) -> ShardFile:
    terms = list(shard_file.terms)
    terms[index] = terms[index]._replace(**changes)
    return _reparsed(dataclasses.replace(shard_file, terms=tuple(terms)))


def test_client_shard_verifies(client_corpus, spliced):
    verify_shard_file(spliced, client_corpus.cas.lookup)


def test_missing_xorb_names_it(client_corpus, spliced):
    hidden = spliced.terms[1].xorb_hash

    def lookup(xorb_hash):
        return None if xorb_hash == hidden else client_corpus.cas.lookup(xorb_hash)

    with pytest.raises(XetMissingXorb, match=f"term 1: xorb {hash_to_hex(hidden)} is not stored") as caught:
        verify_shard_file(spliced, lookup)
    assert caught.value.xorb_hash == hash_to_hex(hidden)


def test_chunk_range_past_the_xorb_end(client_corpus, spliced):
    count = len(client_corpus.cas.tables[spliced.terms[0].xorb_hash])
    tampered = _with_term(spliced, 0, chunk_end=count + 1)
    with pytest.raises(XetChunkRangeError, match=rf"term 0: chunk range \[\d+, {count + 1}\) is not inside"):
        verify_shard_file(tampered, client_corpus.cas.lookup)


def test_empty_chunk_range(client_corpus, spliced):
    start = spliced.terms[2].chunk_start
    tampered = _with_term(spliced, 2, chunk_end=start)
    with pytest.raises(XetChunkRangeError, match=rf"term 2: chunk range \[{start}, {start}\)"):
        verify_shard_file(tampered, client_corpus.cas.lookup)


def test_unpacked_bytes_not_matching_the_chunks(client_corpus, spliced):
    term = spliced.terms[1]
    tampered = _with_term(spliced, 1, unpacked_bytes=term.unpacked_bytes + 1)
    with pytest.raises(
        XetUnpackedSizeMismatch,
        match=f"declares {term.unpacked_bytes + 1} unpacked bytes, .* hold {term.unpacked_bytes}",
    ):
        verify_shard_file(tampered, client_corpus.cas.lookup)


def test_shifted_range_with_a_matching_size_fails_the_verification_hash(client_corpus, spliced):
    # Shift the last term's range by one chunk and fix up its size: only the verification hash
    # (and the file hash after it) can tell.
    index = len(spliced.terms) - 1
    term = spliced.terms[index]
    table = client_corpus.cas.tables[term.xorb_hash]
    assert term.chunk_start > 0
    shifted = table[term.chunk_start - 1 : term.chunk_end - 1]
    tampered = _with_term(
        spliced,
        index,
        chunk_start=term.chunk_start - 1,
        chunk_end=term.chunk_end - 1,
        unpacked_bytes=sum(c.unpacked_size for c in shifted),
    )
    with pytest.raises(XetVerificationHashMismatch, match=f"term {index}: verification hash"):
        verify_shard_file(tampered, client_corpus.cas.lookup)


def test_wrong_verification_hash(client_corpus, spliced):
    hashes = list(spliced.verification_hashes)
    hashes[1] = hashes[0]
    tampered = _reparsed(dataclasses.replace(spliced, verification_hashes=tuple(hashes)))
    with pytest.raises(XetVerificationHashMismatch, match=f"term 1: verification hash {hash_to_hex(hashes[0])}"):
        verify_shard_file(tampered, client_corpus.cas.lookup)


def test_consistent_terms_under_the_wrong_file_hash(client_corpus, spliced):
    other = hash_from_hex(client_corpus.items["random_9mb"].uploaded.file_hash)
    tampered = _reparsed(dataclasses.replace(spliced, file_hash=other))
    with pytest.raises(XetFileHashMismatch, match=f"file {hash_to_hex(other)}: its terms' chunks hash to"):
        verify_shard_file(tampered, client_corpus.cas.lookup)


def test_dropping_a_term_with_fresh_verification_hashes_fails_the_file_hash(client_corpus, spliced):
    terms = spliced.terms[:-1]
    hashes = tuple(
        term_verification_hash(c.hash for c in client_corpus.cas.tables[t.xorb_hash][t.chunk_start : t.chunk_end])
        for t in terms
    )
    tampered = _reparsed(dataclasses.replace(spliced, terms=terms, verification_hashes=hashes))
    with pytest.raises(XetFileHashMismatch):
        verify_shard_file(tampered, client_corpus.cas.lookup)


def test_required_sections(client_corpus, spliced):
    lookup = client_corpus.cas.lookup
    bare = _reparsed(dataclasses.replace(spliced, verification_hashes=None, sha256_raw=None))
    assert (bare.verification_hashes, bare.sha256) == (None, None)
    with pytest.raises(XetShardError, match="carries no verification entries"):
        verify_shard_file(bare, lookup)
    with pytest.raises(XetShardError, match="carries no sha256 metadata"):
        verify_shard_file(bare, lookup, require_verification=False)
    verify_shard_file(bare, lookup, require_verification=False, require_sha256=False)


def test_a_false_sha256_passes_the_shard_but_not_reconstruction(client_corpus, spliced):
    cas = client_corpus.cas
    claimed = hashlib.sha256(b"some popular file").hexdigest()
    forged = _reparsed(dataclasses.replace(spliced, sha256_raw=sha256_hex_to_shard(claimed)))
    assert forged.sha256 == claimed
    verify_shard_file(forged, cas.lookup)  # nothing in the shard binds sha256 to the content
    actual = hashlib.sha256(client_corpus.items["spliced"].payload).hexdigest()
    with pytest.raises(
        XetSha256Mismatch, match=f"content hashes to sha256 {actual}, shard declared {claimed}"
    ) as caught:
        reconstruct_file(forged.terms, cas.lookup, cas.open_range, expected_sha256=forged.sha256)
    assert (caught.value.expected, caught.value.actual) == (claimed, actual)


def test_verify_shard_stops_at_the_first_bad_file(client_corpus, spliced):
    good = client_corpus.cas.files[hash_from_hex(client_corpus.items["text_lz4"].uploaded.file_hash)]
    bad = dataclasses.replace(spliced, file_hash=good.file_hash)
    shard = parse_shard(io.BytesIO(build_shard([good, bad])))
    with pytest.raises(XetFileHashMismatch, match=f"file {good.file_hash_hex}"):
        verify_shard(shard, client_corpus.cas.lookup)


# -- binary format -----------------------------------------------------------------------------


def test_footer_round_trip(spliced):
    body = build_shard([spliced], footer=True, chunk_hash_hmac_key=b"k" * 32, creation_timestamp=7, key_expiry=9)
    shard = parse_shard(io.BytesIO(body))
    assert shard.files == (spliced,)
    footer = shard.footer
    assert footer is not None
    assert footer.file_info_offset == 48
    assert footer.footer_offset == len(body) - SHARD_FOOTER_SIZE
    assert footer.cas_info_offset == footer.footer_offset - 48  # empty CAS section: its bookend
    assert (footer.chunk_hash_hmac_key, footer.creation_timestamp, footer.key_expiry) == (b"k" * 32, 7, 9)


def test_empty_file_has_no_terms(client_corpus):
    empty = client_corpus.cas.files[bytes(32)]
    assert (empty.terms, empty.size, empty.verification_hashes) == ((), 0, ())
    assert empty.sha256 == hashlib.sha256(b"").hexdigest()
    verify_shard_file(empty, client_corpus.cas.lookup)


@pytest.fixture
def body(spliced) -> bytes:
    return build_shard([spliced])


def test_bad_tag(body):
    with pytest.raises(XetFormatError, match="bad header tag"):
        parse_shard(io.BytesIO(b"X" + body[1:]))


def test_bad_version(body):
    with pytest.raises(XetFormatError, match="unsupported shard version 3"):
        parse_shard(io.BytesIO(SHARD_HEADER_TAG + struct.pack("<QQ", 3, 0) + body[48:]))


def test_bad_footer_size(body):
    with pytest.raises(XetFormatError, match="unsupported shard footer size 17"):
        parse_shard(io.BytesIO(SHARD_HEADER_TAG + struct.pack("<QQ", 2, 17) + body[48:]))


@pytest.mark.parametrize("cut", [10, 48, 100, 48 + 48 * 2 + 5, -49, -1])
def test_truncated_shard(body, cut):
    with pytest.raises(XetFormatError, match="truncated shard"):
        parse_shard(io.BytesIO(body[:cut]))


def test_trailing_bytes(body):
    with pytest.raises(XetFormatError, match=f"unexpected bytes after the shard at byte {len(body)}"):
        parse_shard(io.BytesIO(body + b"\x00"))


def test_footer_with_wrong_version_or_offset(spliced):
    body = build_shard([spliced], footer=True)
    wrong_version = body[:-SHARD_FOOTER_SIZE] + struct.pack("<Q", 2) + body[-SHARD_FOOTER_SIZE + 8 :]
    with pytest.raises(XetFormatError, match="unsupported shard footer version 2"):
        parse_shard(io.BytesIO(wrong_version))
    wrong_offset = body[:-8] + struct.pack("<Q", 48)
    with pytest.raises(XetFormatError, match=f"footer says it starts at 48, found at {len(body) - SHARD_FOOTER_SIZE}"):
        parse_shard(io.BytesIO(wrong_offset))


def test_size_limit(body):
    with pytest.raises(XetSizeLimitError, match="shard exceeds 200 bytes"):
        parse_shard(io.BytesIO(body), max_bytes=200)


def test_huge_entry_count_stops_at_the_size_limit(spliced):
    body = bytearray(build_shard([spliced]))
    struct.pack_into("<I", body, 48 + 36, 0xFFFFFFFF)  # num_entries of the first file
    with pytest.raises(XetSizeLimitError, match="shard exceeds 1000000 bytes"):
        parse_shard(io.BytesIO(bytes(body) + bytes(1_000_000)), max_bytes=1_000_000)


def test_build_rejects_verification_hashes_not_matching_the_terms(spliced):
    with pytest.raises(ValueError, match="verification hashes"):
        build_shard([dataclasses.replace(spliced, verification_hashes=spliced.verification_hashes[:1])])
