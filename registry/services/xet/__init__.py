"""Xet storage: CAS access tokens, xorb and shard intake, reconstruction answers, collection (XET.md).

The protocol itself (hashes, formats, verification) is the pure core in ``registry.xet``; this package
ties it to the database and the ``blobs`` storage.

* Xorbs are verified as they stream in (every chunk decompressed and hashed, then the xorb hash) and
  stored as received under ``xorbs/``. They are global: any writer may name any stored xorb.
* A shard's files are checked against those xorbs (terms, verification hashes, file hash), then each
  new file is **rebuilt and hashed by the server**: a shard's sha256 is a claim nothing else binds to
  the content. Only a file whose content hashes to its claim is registered, and its content becomes
  the ``Blob`` of that sha256, linked to the uploading repository (``RepoBlob``) — so an ``lfsFile``
  commit, resolve, ``Range`` and every other reader work exactly as for LFS uploads.
* Reading is decided per file: a token for repository A reconstructs a file only when the blob of
  its content is linked to A.

Lock order: none is taken. Rebuilding happens outside any transaction; the rows of a shard are then
written in one transaction, so a shard either registers all its files or none.

The modules: ``tokens`` (CAS access tokens), ``xorbs`` (xorb intake and data URLs), ``shards`` (shard
intake and server-side verification), ``files`` (reading files, reconstructions), ``collection``
(removing what nothing uses), ``index`` (chunk tables of stored xorbs) and ``counters``.
"""

from registry.services.xet.collection import XetCollection, xet_collect
from registry.services.xet.counters import XetCounters, xet_counters
from registry.services.xet.files import xet_file_hash_for_sha256, xet_file_readable, xet_reconstruction
from registry.services.xet.index import XorbTables
from registry.services.xet.shards import ShardOutcome, shard_receive
from registry.services.xet.tokens import CasGrant, XetScope, xet_token_check, xet_token_issue
from registry.services.xet.xorbs import xorb_data_token, xorb_data_token_check, xorb_presigned_url, xorb_receive

__all__ = [
    "CasGrant",
    "ShardOutcome",
    "XetCollection",
    "XetCounters",
    "XetScope",
    "XorbTables",
    "shard_receive",
    "xet_collect",
    "xet_counters",
    "xet_file_hash_for_sha256",
    "xet_file_readable",
    "xet_reconstruction",
    "xet_token_check",
    "xet_token_issue",
    "xorb_data_token",
    "xorb_data_token_check",
    "xorb_presigned_url",
    "xorb_receive",
]
