"""Shard intake: files checked against the stored xorbs, rebuilt and hashed, then registered.

A shard's sha256 is a claim nothing else binds to the content, so each file new to the hub is
rebuilt by the server; only a file whose content hashes to its claim is registered. Rebuilding
happens outside any transaction; the rows of a shard are then written in one transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from registry.models import Blob, Repo, RepoBlob
from registry.models_xet import XetFile, XetFileXorb, Xorb
from registry.services.scans import scans_queue
from registry.services.xet.counters import _count
from registry.services.xet.index import XorbTables, _batches
from registry.storage import BlobWriter, StagedBlob, blob_promote
from registry.xet.errors import XetMissingXorb, XetSha256Mismatch
from registry.xet.hashing import hash_to_hex
from registry.xet.protocol import SHARD_RESULT_EXISTS, SHARD_RESULT_SYNCED
from registry.xet.reconstruction import iter_file_content
from registry.xet.shard import Shard, ShardFile, parse_shard, verify_shard
from registry.xet.store import xorb_open_range
from registry.xet.types import pack_terms


@dataclass
class _Rebuilt:
    shard_file: ShardFile
    staged: StagedBlob | None  # None: a blob with this content is already stored


def _rebuild(shard_file: ShardFile, tables: XorbTables) -> _Rebuilt:
    """Rebuild a file from the stored xorbs and check it hashes to the sha256 its shard declared.

    The content is staged as a blob unless one with that sha256 is already stored, in which case it
    is only hashed. Raises ``XetSha256Mismatch`` for a forged claim.
    """
    declared = shard_file.sha256
    assert declared is not None  # verify_shard requires it
    content = iter_file_content(shard_file.terms, tables.lookup, xorb_open_range)
    if Blob.objects.filter(sha256=declared, size=shard_file.size).exists():
        digest = hashlib.sha256()
        for data in content:
            digest.update(data)
        actual, staged = digest.hexdigest(), None
    else:
        writer = BlobWriter(expected_size=shard_file.size)
        try:
            for data in content:
                writer.write(data)
            staged = writer.finish()
        except BaseException:
            writer.abort()
            raise
        actual = staged.sha256
    if actual != declared:
        if staged is not None:
            staged.discard()
        raise XetSha256Mismatch(
            f"file {shard_file.file_hash_hex}: its content hashes to sha256 {actual}, the shard declares {declared}",
            expected=declared,
            actual=actual,
        )
    return _Rebuilt(shard_file, staged)


@dataclass(frozen=True)
class ShardOutcome:
    files: int
    registered: int  # files new to the hub (rebuilt and hashed)
    linked: int  # files newly made available to the repository

    @property
    def result(self) -> int:
        return SHARD_RESULT_SYNCED if self.registered or self.linked else SHARD_RESULT_EXISTS


def shard_receive(*, repo: Repo, stream: BinaryIO) -> ShardOutcome:
    """Check an uploaded shard and make its files available to ``repo``.

    Every file must be backed exactly by stored xorbs (``verify_shard``), and every file new to the
    hub must rebuild to the sha256 the shard declares; the first failure raises ``XetError`` (400)
    and nothing of the shard is recorded. Files the hub already holds are only linked.
    """
    shard = parse_shard(stream)
    now = timezone.now()
    referenced = sorted(hash_to_hex(h) for h in shard.referenced_xorbs())
    # Touch the xorbs first: collection only takes xorbs unused for weeks, so none of these can go
    # while the shard is being checked.
    for batch in _batches(referenced):
        Xorb.objects.filter(hash__in=batch).update(last_used_at=now)
    tables = XorbTables()
    verify_shard(shard, tables.lookup)

    files = _unique_files(shard)
    # Files the hub holds already (with their content's blob): only linked, not rebuilt again.
    stored = Blob.objects.filter(sha256=OuterRef("sha256"))
    known = {
        f.file_hash: f
        for batch in _batches([f.file_hash_hex for f in files])
        for f in XetFile.objects.filter(file_hash__in=batch).filter(Exists(stored))
    }
    rebuilt: list[_Rebuilt] = []
    try:
        for shard_file in files:
            existing = known.get(shard_file.file_hash_hex)
            if existing is None:
                rebuilt.append(_rebuild(shard_file, tables))
            elif existing.sha256 != shard_file.sha256:
                raise XetSha256Mismatch(
                    f"file {shard_file.file_hash_hex} has sha256 {existing.sha256}, the shard declares "
                    f"{shard_file.sha256}",
                    expected=shard_file.sha256 or "",
                    actual=existing.sha256,
                )
        outcome = _shard_record(repo=repo, files=files, rebuilt=rebuilt, known=known, now=now)
    finally:
        for item in rebuilt:
            if item.staged is not None:
                item.staged.discard()
    _count(shards_received=1, files_registered=outcome.registered)
    return outcome


def _unique_files(shard: Shard) -> list[ShardFile]:
    seen: dict[bytes, ShardFile] = {}
    for shard_file in shard.files:
        seen.setdefault(shard_file.file_hash, shard_file)
    return list(seen.values())


def _shard_record(
    *, repo: Repo, files: list[ShardFile], rebuilt: list[_Rebuilt], known: dict[str, XetFile], now: datetime
) -> ShardOutcome:
    """Promote the rebuilt contents, then write every row of the shard in one transaction."""
    for item in rebuilt:
        if item.staged is not None:
            blob_promote(item.staged)
            item.staged = None
    sha256s = {f.sha256 for f in files}
    blobs = {b.sha256: b for batch in _batches(sorted(sha256s)) for b in Blob.objects.filter(sha256__in=batch)}
    with transaction.atomic():
        already_linked = set(
            RepoBlob.objects.filter(repo=repo, blob__sha256__in=sha256s).values_list("blob__sha256", flat=True)
        )
        registered = 0
        for item in rebuilt:
            if _xet_file_create(item.shard_file, now=now):
                registered += 1
        XetFile.objects.filter(file_hash__in=list(known)).update(last_used_at=now)
        RepoBlob.objects.bulk_create(
            [RepoBlob(repo=repo, blob=blobs[sha]) for sha in sha256s - already_linked], ignore_conflicts=True
        )
        scans_queue(blobs=[blobs[sha] for sha in sha256s])
    return ShardOutcome(files=len(files), registered=registered, linked=len(sha256s - already_linked))


def _xet_file_create(shard_file: ShardFile, *, now: datetime) -> bool:
    """Insert the file and its xorb links; False when a concurrent shard registered it first."""
    xorb_hexes = sorted({t.xorb_hash_hex for t in shard_file.terms})
    xorb_pks = dict(Xorb.objects.filter(hash__in=xorb_hexes).values_list("hash", "pk"))
    missing = [h for h in xorb_hexes if h not in xorb_pks]
    if missing:
        raise XetMissingXorb(f"xorb {missing[0]} was removed while the shard was checked", xorb_hash=missing[0])
    try:
        with transaction.atomic():
            row = XetFile.objects.create(
                file_hash=shard_file.file_hash_hex,
                sha256=shard_file.sha256,
                size=shard_file.size,
                terms=pack_terms(shard_file.terms),
                last_used_at=now,
            )
    except IntegrityError:
        return False
    XetFileXorb.objects.bulk_create([XetFileXorb(file=row, xorb_id=pk) for pk in xorb_pks.values()])
    return True
