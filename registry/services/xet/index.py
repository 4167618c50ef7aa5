"""The xorb index: chunk tables by xorb hash, loaded from ``Xorb`` rows or re-indexed from storage."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction

from registry.models_xet import Xorb, xorb_storage_key
from registry.storage import blob_storage
from registry.xet.errors import XetError
from registry.xet.hashing import hash_from_hex, hash_to_hex
from registry.xet.store import xorb_open
from registry.xet.types import ChunkEntry, pack_chunk_table, unpack_chunk_table
from registry.xet.xorb import parse_xorb

logger = logging.getLogger(__name__)

# Chunk tables one request keeps in memory while it verifies or answers: about 0.2 MiB per 1,000
# chunks decoded (a xorb holds about 1,000 chunks of 64 KiB, at most 8,192), so at most ~30 MiB.
TABLE_CACHE_SIZE = 16
# Rows per IN (...) clause.
QUERY_BATCH = 500


class XorbTables:
    """Chunk tables by raw xorb hash, loaded on demand; the last ``capacity`` stay in memory.

    ``lookup`` is the ``ChunkTableLookup`` the pure core takes. A xorb whose row is missing but whose
    object is still in storage (a database restored from a backup, say) is verified again and
    re-indexed: clients keep naming xorbs from their shard cache for weeks.
    """

    def __init__(self, capacity: int = TABLE_CACHE_SIZE) -> None:
        self._cache: OrderedDict[bytes, tuple[ChunkEntry, ...]] = OrderedDict()
        self._capacity = capacity

    def lookup(self, xorb_hash: bytes) -> tuple[ChunkEntry, ...] | None:
        table = self._cache.get(xorb_hash)
        if table is not None:
            self._cache.move_to_end(xorb_hash)
            return table
        hash_hex = hash_to_hex(xorb_hash)
        packed = Xorb.objects.filter(hash=hash_hex).values_list("chunk_table", flat=True).first()
        if packed is not None:
            table = tuple(unpack_chunk_table(bytes(packed)))
        else:
            table = _xorb_reindex(hash_hex)
            if table is None:
                return None
        self._cache[xorb_hash] = table
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return table


def _xorb_row(info, hash_hex: str) -> Xorb:
    return Xorb(
        hash=hash_hex,
        size=info.stored_size,
        unpacked_size=info.unpacked_size,
        chunk_count=len(info.chunks),
        chunk_table=pack_chunk_table(info.chunks),
    )


def _xorb_reindex(hash_hex: str) -> tuple[ChunkEntry, ...] | None:
    key = xorb_storage_key(hash_hex)
    if not blob_storage().exists(key):
        return None
    try:
        with xorb_open(key) as handle:
            info = parse_xorb(handle, hash_from_hex(hash_hex))
    except XetError as error:
        logger.warning("stored xorb %s does not verify, not re-indexed: %s", hash_hex, error)
        return None
    try:
        with transaction.atomic():
            _xorb_row(info, hash_hex).save()
    except IntegrityError:
        pass
    logger.info("re-indexed stored xorb %s", hash_hex)
    return info.chunks


def _batches(items: Sequence, size: int = QUERY_BATCH) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
