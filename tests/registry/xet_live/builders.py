"""Hand-built Xet artefacts (xorbs and shards) made with the pure core, for requests the real client
would never send: forged sha256 claims, xorbs that do not match their hash, shards naming nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from registry.xet.hashing import (
    chunk_hash,
    file_hash,
    hash_to_hex,
    sha256_hex_to_shard,
    term_verification_hash,
    xorb_hash,
)
from registry.xet.shard import ShardFile, build_shard
from registry.xet.types import FileTerm
from registry.xet.xorb import CompressionScheme, encode_chunk_record


@dataclass(frozen=True)
class BuiltFile:
    content: bytes
    xorb_body: bytes
    xorb_hash: str  # text form, as in URLs
    shard_file: ShardFile

    @property
    def file_hash(self) -> str:
        return self.shard_file.file_hash_hex

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def build_file(
    content: bytes,
    *,
    chunk_size: int = 64 * 1024,
    scheme: CompressionScheme = CompressionScheme.LZ4,
    claimed_sha256: str | None = None,
) -> BuiltFile:
    """One xorb holding ``content`` in fixed-size chunks, and the shard entry describing it.

    ``claimed_sha256`` replaces the true sha256 in the shard's metadata (a forged claim): every
    other field stays consistent, so only rebuilding the content can catch it.
    """
    chunks = [content[i : i + chunk_size] for i in range(0, len(content), chunk_size)]
    leaves = [(chunk_hash(c), len(c)) for c in chunks]
    body = b"".join(encode_chunk_record(c, scheme) for c in chunks)
    xorb = xorb_hash(leaves)
    sha256 = claimed_sha256 or hashlib.sha256(content).hexdigest()
    shard_file = ShardFile(
        file_hash=file_hash(leaves),
        terms=(FileTerm(xorb, 0, len(chunks), len(content)),),
        verification_hashes=(term_verification_hash(h for h, _ in leaves),),
        sha256_raw=sha256_hex_to_shard(sha256),
    )
    return BuiltFile(content=content, xorb_body=body, xorb_hash=hash_to_hex(xorb), shard_file=shard_file)


def shard_body(*files: ShardFile) -> bytes:
    """An upload shard (no footer, no CAS-info blocks: the server indexes xorbs itself)."""
    return build_shard(files)
