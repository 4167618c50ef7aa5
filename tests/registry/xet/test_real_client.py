"""The real ``hf_xet`` client against ``LoopbackCas``: its artefacts parse and verify, and round-trip."""

import hashlib
import io
import random
import tracemalloc

import hf_xet
import pytest

from registry.xet.hashing import chunk_hash, file_hash, hash_from_hex, hash_to_hex, term_verification_hash
from registry.xet.reconstruction import iter_file_content, reconstruct_file
from registry.xet.shard import ShardFile, build_shard, parse_shard, verify_shard
from registry.xet.types import FileTerm
from registry.xet.xorb import (
    CHUNK_HEADER_SIZE,
    MAX_XORB_BODY_BYTES,
    MAX_XORB_UNPACKED_BYTES,
    CompressionScheme,
    encode_chunk_record,
    parse_chunk_header,
    parse_xorb,
)

CORPUS = ["empty", "one_byte", "random_9mb", "tensor_auto", "text_lz4", "tensor_bg4", "text_none", "spliced"]


def _shards(corpus):
    return [parse_shard(io.BytesIO(body), with_cas_chunks=True) for body in corpus.cas.shard_bodies]


def _shard_file(corpus, name) -> ShardFile:
    wanted = hash_from_hex(corpus.items[name].uploaded.file_hash)
    matches = [f for shard in _shards(corpus) for f in shard.files if f.file_hash == wanted]
    assert len(matches) == 1
    return matches[0]


def test_client_speaks_the_expected_request_sequence(client_corpus):
    cas = client_corpus.cas
    statuses = {(r.method, r.path.split("/")[1] + "/" + r.path.split("/")[2], r.status) for r in cas.requests}
    # Telemetry is fire-and-forget: it may or may not have gone out yet, and is answered 200.
    assert statuses - {("POST", "v1/telemetry", 200)} == {
        ("GET", "api/models", 200),  # write token, JSON body
        ("GET", "v1/chunks", 404),  # global dedup probe
        ("POST", "v1/xorb-grants", 404),  # direct-to-bucket grants, then fallback
        ("POST", "v1/xorbs", 200),
        ("POST", "v2/shards", 404),  # streaming shard upload, then fallback
        ("POST", "v1/shards", 200),
    }
    cas_requests = [r for r in cas.requests if not r.path.startswith("/api/")]
    assert {r.authorization for r in cas_requests} == {f"Bearer {cas.cas_token}"}
    assert cas.errors == []
    # One shard per commit.
    assert len(cas.shard_bodies) == 5


def test_every_captured_xorb_verifies_against_its_url_hash(client_corpus):
    bodies = client_corpus.cas.xorb_bodies
    assert len(bodies) == 5  # one per commit: the spliced commit only adds its new middle part
    for url_hash, body in bodies.items():
        info = parse_xorb(io.BytesIO(body), hash_from_hex(url_hash))
        assert info.hash_hex == url_hash
        assert info.stored_size == len(body)
        assert info.has_footer is False
        assert info.chunks[0].byte_start == 0
        for before, after in zip(info.chunks, info.chunks[1:], strict=False):
            assert after.byte_start == before.byte_end
        assert info.chunks[-1].byte_end == len(body)


def test_compression_policies_show_up_as_record_schemes(client_corpus):
    corpus = client_corpus
    schemes_by_item = {}
    for name in ["random_9mb", "text_lz4", "tensor_bg4", "text_none"]:
        seen = set()
        for term in _shard_file(corpus, name).terms:
            body = corpus.cas.xorb_bodies[term.xorb_hash_hex]
            for chunk in corpus.cas.tables[term.xorb_hash][term.chunk_start : term.chunk_end]:
                header = parse_chunk_header(body[chunk.byte_start : chunk.byte_start + CHUNK_HEADER_SIZE])
                seen.add(CompressionScheme(header.scheme))
        schemes_by_item[name] = seen
    assert schemes_by_item == {
        "random_9mb": {CompressionScheme.NONE},  # incompressible: stored raw whatever the policy
        "text_lz4": {CompressionScheme.LZ4},
        "tensor_bg4": {CompressionScheme.BG4_LZ4},
        "text_none": {CompressionScheme.NONE},
    }


def test_shards_rebuild_byte_identical_and_list_the_uploaded_xorbs(client_corpus):
    cas = client_corpus.cas
    for body in cas.shard_bodies:
        shard = parse_shard(io.BytesIO(body), with_cas_chunks=True)
        assert shard.footer is None
        assert build_shard(shard.files, shard.xorbs) == body
        for xorb in shard.xorbs:
            table = cas.tables[xorb.xorb_hash]
            assert [c.hash for c in xorb.chunks] == [c.hash for c in table]
            assert [c.unpacked_size for c in xorb.chunks] == [c.unpacked_size for c in table]
            sizes = [c.unpacked_size for c in table]
            assert [c.unpacked_offset for c in xorb.chunks] == [sum(sizes[:i]) for i in range(len(sizes))]
            assert xorb.bytes_in_cas == sum(c.unpacked_size for c in table)


def test_shard_files_verify_against_the_xorb_tables(client_corpus):
    cas = client_corpus.cas
    for shard in _shards(client_corpus):
        verify_shard(shard, cas.lookup)
    for item in client_corpus.items.values():
        shard_file = _shard_file(client_corpus, item.name)
        assert shard_file.file_hash_hex == item.uploaded.file_hash
        assert shard_file.sha256 == hashlib.sha256(item.payload).hexdigest() == item.uploaded.sha256
        assert shard_file.size == len(item.payload) == item.uploaded.size
        assert shard_file.verification_hashes == tuple(
            term_verification_hash(c.hash for c in cas.tables[t.xorb_hash][t.chunk_start : t.chunk_end])
            for t in shard_file.terms
        )


@pytest.mark.parametrize("name", CORPUS)
def test_file_hash_from_the_clients_chunks_matches_hf_xet(client_corpus, name):
    item = client_corpus.items[name]
    shard_file = _shard_file(client_corpus, name)
    # Re-hash the decoded chunk contents ourselves: leaves are (chunk_hash(data), len(data)).
    leaves = [
        (chunk_hash(data), len(data))
        for data in iter_file_content(shard_file.terms, client_corpus.cas.lookup, client_corpus.cas.open_range)
    ]
    assert sum(size for _, size in leaves) == len(item.payload)
    (reference,) = hf_xet.hash_files([str(item.path)])
    assert hash_to_hex(file_hash(leaves)) == reference.hash == item.uploaded.file_hash
    assert reference.file_size == len(item.payload)


@pytest.mark.parametrize("name", CORPUS)
def test_reconstruction_from_captured_xorbs_is_byte_identical(client_corpus, name):
    item = client_corpus.items[name]
    shard_file = _shard_file(client_corpus, name)
    out = io.BytesIO()
    result = reconstruct_file(
        shard_file.terms,
        client_corpus.cas.lookup,
        client_corpus.cas.open_range,
        dest=out,
        expected_sha256=shard_file.sha256,
        verify_chunk_hashes=True,
    )
    assert out.getvalue() == item.payload
    assert result.size == len(item.payload)
    assert result.sha256 == hashlib.sha256(item.payload).hexdigest()


def test_spliced_file_reuses_the_earlier_xorb_without_reuploading_it(client_corpus):
    corpus = client_corpus
    (first,) = _shard_file(corpus, "random_9mb").terms
    spliced = _shard_file(corpus, "spliced").terms
    # Reused prefix, new middle, reused tail, then the new chunk where the tail's last chunk ends
    # differently (the spliced file stops inside the original's chunk).
    assert [t.xorb_hash for t in spliced] == [first.xorb_hash, spliced[1].xorb_hash] * 2
    assert spliced[1].xorb_hash != first.xorb_hash
    assert spliced[0].chunk_start == first.chunk_start
    assert first.chunk_start < spliced[2].chunk_start < spliced[2].chunk_end < first.chunk_end
    assert (spliced[1].chunk_start, spliced[3].chunk_start) == (0, spliced[1].chunk_end)
    assert sum(t.unpacked_bytes for t in spliced) == len(corpus.items["spliced"].payload)
    assert corpus.cas.paths("POST").count(f"/v1/xorbs/default/{first.xorb_hash_hex}") == 1


@pytest.mark.parametrize("name", [n for n in CORPUS if n != "empty"])
def test_client_downloads_byte_identical_content(client_corpus, name, tmp_path):
    item = client_corpus.items[name]
    cas = client_corpus.cas
    before = len(cas.requests)
    dest = tmp_path / "download"
    cas.download(item.uploaded.file_hash, item.uploaded.size, dest)
    assert dest.read_bytes() == item.payload
    new = cas.requests[before:]
    reconstruction = [r for r in new if r.path == f"/v1/reconstructions/{item.uploaded.file_hash}"]
    assert [(r.status, r.range) for r in reconstruction] == [(200, f"bytes=0-{len(item.payload) - 1}")]
    data = [r for r in new if r.path.startswith("/xorb-data/")]
    assert data
    assert {(r.status, r.authorization) for r in data} == {(206, None)}


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 1),
        (1, 100),
        (65_000, 2_100_000),  # crosses from the reused xorb into the new one
        (1_999_990, 3_000_010),  # the whole new middle part and a bit either side
        (4_999_999, 5_000_000),  # last byte
        (3_500_000, None),  # to the end
    ],
)
def test_client_range_downloads_match(client_corpus, start, end):
    item = client_corpus.items["spliced"]
    got = client_corpus.cas.download_range(item.uploaded.file_hash, item.uploaded.size, start, end)
    assert got == item.payload[start:end]


def test_client_decodes_xorbs_built_by_the_server(cas, tmp_path):
    """Our record encoder (all three schemes, every BG4 remainder) is what the client decodes."""
    rng = random.Random(7)
    records, leaves = [], []
    for i, size in enumerate([1, 2, 3, 4, 5, 6, 7, 64 * 1024 + 3, 128 * 1024, 1000, 999, 998, 997]):
        data = bytes(rng.choice(b"abc\x00\x01") for _ in range(size))
        records.append(encode_chunk_record(data, list(CompressionScheme)[i % 3]))
        leaves.append((chunk_hash(data), data))
    body = b"".join(records)
    info = parse_xorb(io.BytesIO(body), None)
    assert info.schemes == {CompressionScheme.NONE: 5, CompressionScheme.LZ4: 4, CompressionScheme.BG4_LZ4: 4}
    content = b"".join(data for _, data in leaves)
    hash_of_file = file_hash([(h, len(d)) for h, d in leaves])
    cas.xorb_bodies[info.hash_hex] = body
    cas.tables[info.hash] = info.chunks
    cas.files[hash_of_file] = ShardFile(hash_of_file, (FileTerm(info.hash, 0, len(leaves), len(content)),), None, None)
    dest = tmp_path / "built"
    cas.download(hash_to_hex(hash_of_file), len(content), dest)
    assert dest.read_bytes() == content


def test_30mb_random_file_hash_and_round_trip(cas, tmp_path):
    payload = random.Random(30).randbytes(30_000_000)
    path = tmp_path / "random_30mb"
    path.write_bytes(payload)
    (uploaded,) = cas.upload([path])
    assert cas.errors == []
    (shard_body,) = cas.shard_bodies
    (shard_file,) = parse_shard(io.BytesIO(shard_body)).files
    leaves = [
        (c.hash, c.unpacked_size)
        for t in shard_file.terms
        for c in cas.tables[t.xorb_hash][t.chunk_start : t.chunk_end]
    ]
    (reference,) = hf_xet.hash_files([str(path)])
    assert hash_to_hex(file_hash(leaves)) == reference.hash == uploaded.file_hash
    out = io.BytesIO()
    reconstruct_file(shard_file.terms, cas.lookup, cas.open_range, dest=out, expected_sha256=shard_file.sha256)
    assert out.getvalue() == payload


def test_full_size_client_xorb_parses_in_bounded_memory(cas, tmp_path):
    payload = random.Random(70).randbytes(70_000_000)
    cas.upload([payload])
    assert cas.errors == []
    assert len(cas.xorb_bodies) == 2
    url_hash, body = max(cas.xorb_bodies.items(), key=lambda kv: len(kv[1]))
    assert MAX_XORB_UNPACKED_BYTES - 128 * 1024 <= len(body) <= MAX_XORB_BODY_BYTES
    stored = tmp_path / "xorb"
    stored.write_bytes(body)
    del body
    sink = tmp_path / "copy"
    with stored.open("rb") as source, sink.open("wb") as copy:
        tracemalloc.start()
        try:
            info = parse_xorb(source, hash_from_hex(url_hash), copy_to=copy)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert info.hash_hex == url_hash
    assert info.unpacked_size <= MAX_XORB_UNPACKED_BYTES
    assert peak < 8 * 1024 * 1024
    assert sink.read_bytes() == stored.read_bytes()
