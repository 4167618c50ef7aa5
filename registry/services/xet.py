"""Xet storage: CAS access tokens, xorb and shard intake, reconstruction answers, collection (XET.md).

The protocol itself (hashes, formats, verification) is the pure core in ``registry.xet``; this module
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
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone

from common.errors import NotFound, PermissionDenied, Unauthenticated
from hub.models import ApiToken, User
from registry.access import Permission, check_can_read_files, repo_role
from registry.models import Blob, Repo, RepoBlob
from registry.models_xet import XetFile, XetFileXorb, Xorb, xorb_storage_key
from registry.storage import BlobWriter, StagedBlob, blob_promote, blob_storage
from registry.xet.errors import XetError, XetMissingXorb, XetSha256Mismatch
from registry.xet.hashing import hash_from_hex, hash_to_hex
from registry.xet.protocol import SHARD_RESULT_EXISTS, SHARD_RESULT_SYNCED, XetTokenGrant
from registry.xet.reconstruction import FetchUrlBuilder, iter_file_content, reconstruction_response
from registry.xet.shard import Shard, ShardFile, parse_shard, verify_shard
from registry.xet.store import XorbSpool, presigned_url, xorb_delete, xorb_open, xorb_open_range
from registry.xet.types import ChunkEntry, FileTerm, pack_chunk_table, pack_terms, unpack_chunk_table, unpack_terms
from registry.xet.xorb import parse_xorb

logger = logging.getLogger(__name__)

TOKEN_SALT = "registry.xet.cas"
DATA_URL_SALT = "registry.xet.data"
# Chunk tables one request keeps in memory while it verifies or answers: about 0.2 MiB per 1,000
# chunks decoded (a xorb holds about 1,000 chunks of 64 KiB, at most 8,192), so at most ~30 MiB.
TABLE_CACHE_SIZE = 16
# Rows per IN (...) clause.
QUERY_BATCH = 500


class XetScope(StrEnum):
    READ = "read"
    WRITE = "write"


# ------------------------------------------------------------------------------------- counters


@dataclass
class XetCounters:
    """What this process's CAS has done since it started (tests and operators read them)."""

    xorbs_received: int = 0  # POST /v1/xorbs answered 200
    xorbs_inserted: int = 0  # ... of which were new
    xorb_bytes_stored: int = 0
    shards_received: int = 0  # POST /v1/shards answered 200
    files_registered: int = 0  # new files, rebuilt and hashed by the server
    reconstructions: int = 0  # GET /v1/reconstructions answered 200


_counters = XetCounters()
_counters_lock = threading.Lock()


def xet_counters() -> dict[str, int]:
    with _counters_lock:
        return asdict(_counters)


def _count(**deltas: int) -> None:
    with _counters_lock:
        for name, delta in deltas.items():
            setattr(_counters, name, getattr(_counters, name) + delta)


# --------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class CasGrant:
    """What a CAS access token lets its bearer do, checked again on every CAS request."""

    repo: Repo
    user: Any  # User or AnonymousUser
    scope: XetScope


def xet_token_issue(
    *, repo: Repo, user, api_token: ApiToken | None, scope: XetScope, cas_url: str, for_pull_request: bool = False
) -> XetTokenGrant:
    """A signed, expiring CAS token for ``user`` on ``repo`` (access already checked by the caller).

    The token names the hub token it was obtained with, so revoking that token revokes it too. A
    write token ``for_pull_request`` is what a reader who proposes changes gets: it lets them upload
    content for ``repo``, which only a commit to their pull request can then reference.
    """
    expires_at = int(time.time()) + settings.HUB_XET_TOKEN_SECONDS
    payload = {
        "r": repo.pk,
        "u": user.pk if user is not None and user.is_authenticated else None,
        "k": api_token.pk if api_token is not None else None,
        "s": scope.value,
        "p": for_pull_request,
        "e": expires_at,
    }
    token = signing.dumps(payload, salt=TOKEN_SALT, compress=True)
    return XetTokenGrant(access_token=token, expires_at=expires_at, cas_url=cas_url)


def xet_token_check(*, token: str, need: XetScope) -> CasGrant:
    """The grant of a CAS token, if it still allows ``need``.

    ``Unauthenticated`` (401: the client fetches a new token and retries) for a malformed, expired
    or revoked token; ``PermissionDenied`` (403) when the token, or its user's current rights,
    do not cover ``need``. A write token also reads; a write token for pull requests needs only
    read access to the repository (anyone who reads it may propose changes).
    """
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
        repo_pk, user_pk, token_pk, scope, expires_at = (payload[k] for k in ("r", "u", "k", "s", "e"))
        for_pull_request = bool(payload.get("p"))
        scope = XetScope(scope)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Unauthenticated("Invalid Xet access token; ask the hub for a new one.") from None
    if expires_at <= time.time():
        raise Unauthenticated("This Xet access token has expired; ask the hub for a new one.")
    if need is XetScope.WRITE and scope is not XetScope.WRITE:
        raise PermissionDenied("This Xet access token only reads.")
    if user_pk is None:
        user = AnonymousUser()
    else:
        user = User.objects.filter(pk=user_pk, is_active=True).first()
        if user is None:
            raise Unauthenticated("The account of this Xet access token is disabled.")
        if (
            token_pk is not None
            and not ApiToken.objects.filter(pk=token_pk, user_id=user_pk, revoked_at__isnull=True).exists()
        ):
            raise Unauthenticated("The hub token this Xet access token came from was revoked.")
    repo = Repo.objects.visible_to(user).filter(pk=repo_pk).select_related("namespace").first()
    if repo is None:
        raise PermissionDenied("The repository of this Xet access token is gone or no longer visible to you.")
    if scope is XetScope.WRITE and not for_pull_request:
        role = repo_role(user=user, repo=repo)
        if role is None or role < Permission.WRITE:
            raise PermissionDenied(f"You are no longer allowed to write to {repo.repo_id}.")
    else:
        check_can_read_files(user=user, repo=repo)
    return CasGrant(repo=repo, user=user, scope=scope)


# ----------------------------------------------------------------------------------- the index


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


# ------------------------------------------------------------------------------------- intake


def xorb_receive(*, xorb_hash: str, stream: BinaryIO) -> bool:
    """Verify and store the xorb uploaded as ``xorb_hash``; True when it was new.

    The body is parsed as it streams in and copied to a staging file, which becomes the stored
    object only once every chunk and the xorb hash verified. Raises ``XetError`` (400) otherwise,
    leaving nothing behind. Whatever the parser does not read (a known xorb's body, a footer) is
    discarded by the server after the response.
    """
    raw = hash_from_hex(xorb_hash)
    hash_hex = hash_to_hex(raw)
    if Xorb.objects.filter(hash=hash_hex).update(last_used_at=timezone.now()):
        _count(xorbs_received=1)
        return False
    with XorbSpool() as spool:
        info = parse_xorb(stream, raw, copy_to=spool.file)
        spool.save(xorb_storage_key(hash_hex))
    try:
        with transaction.atomic():
            _xorb_row(info, hash_hex).save()
    except IntegrityError:
        inserted = False  # uploaded twice at once; both copies are the same bytes
    else:
        inserted = True
    _count(xorbs_received=1, xorbs_inserted=int(inserted), xorb_bytes_stored=info.stored_size if inserted else 0)
    return inserted


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


# ------------------------------------------------------------------------------------ reading


def xet_file_readable(*, repo: Repo, file_hash: str) -> XetFile:
    """The file ``file_hash`` if its content is available to ``repo``; ``NotFound`` otherwise.

    Unknown files and files of other repositories get the same answer, so a hash reveals nothing.
    """
    row = XetFile.objects.filter(file_hash=file_hash.lower()).first()
    if row is None or not RepoBlob.objects.filter(repo=repo, blob__sha256=row.sha256).exists():
        raise NotFound(f"File {file_hash} not found.")
    return row


def xet_reconstruction(
    *, grant: CasGrant, file_hash: str, byte_range: tuple[int, int | None] | None, url_for: FetchUrlBuilder
) -> dict[str, Any]:
    """The ``/v1/reconstructions/{file_hash}`` answer for the bearer of ``grant``.

    Raises ``NotFound`` (404) when the file is not readable through the grant's repository and
    ``XetRangeNotSatisfiable`` (416) for a range past the end.
    """
    row = xet_file_readable(repo=grant.repo, file_hash=file_hash)
    terms: list[FileTerm] = unpack_terms(bytes(row.terms))
    answer = reconstruction_response(terms, XorbTables().lookup, url_for, byte_range=byte_range)
    _count(reconstructions=1)
    return answer


def xet_file_hash_for_sha256(sha256: str) -> str | None:
    """The Xet hash of a file with this content, when the hub holds one (for Xet downloads)."""
    return XetFile.objects.filter(sha256=sha256).order_by("pk").values_list("file_hash", flat=True).first()


def xorb_presigned_url(*, xorb_hash: str) -> str | None:
    """A presigned object-store URL of a stored xorb when the storage backend offers one.

    The hub then stays out of the data path. Otherwise (the filesystem backend) the caller hands
    out the hub's own URL with a :func:`xorb_data_token`.
    """
    return presigned_url(blob_storage(), xorb_storage_key(xorb_hash), expire=settings.HUB_XET_DATA_URL_SECONDS)


def xorb_data_token(*, xorb_hash: str, start: int, last: int) -> str:
    """A signed token naming one byte range of one xorb (bound to both; expires)."""
    return signing.dumps([xorb_hash, start, last], salt=DATA_URL_SALT, compress=True)


def xorb_data_token_check(*, token: str) -> tuple[Xorb, int, int]:
    """The xorb and inclusive byte range a data token grants; ``PermissionDenied`` (403) otherwise.

    403 is what the client expects from an expired URL: it asks for the reconstruction again.
    """
    try:
        xorb_hash, start, last = signing.loads(token, salt=DATA_URL_SALT, max_age=settings.HUB_XET_DATA_URL_SECONDS)
    except signing.SignatureExpired:
        raise PermissionDenied("This xorb URL has expired.") from None
    except (signing.BadSignature, TypeError, ValueError):
        raise PermissionDenied("This xorb URL is not valid.") from None
    xorb = Xorb.objects.filter(hash=xorb_hash).first()
    if xorb is None:
        raise PermissionDenied("This xorb is no longer stored.")
    return xorb, start, last


# --------------------------------------------------------------------------------- collection


@dataclass(frozen=True)
class XetCollection:
    files: int
    xorbs: int


def xet_collect(*, now: datetime | None = None) -> XetCollection:
    """Remove files no repository can read and xorbs no file names, once unused for the retention.

    A file goes when the blob of its content is linked to no repository and it was last registered
    or named by a shard ``HUB_XET_RETENTION_DAYS`` ago; its xorbs are then marked used *now*, so
    they stay a full retention period more. A xorb goes when no file names it and it was last
    uploaded or named that long ago — clients reuse xorbs from their three-week shard cache without
    sending them again. Safe to run twice, and alongside uploads: a shard touches its xorbs before
    checking them, and rows are deleted with the conditions re-checked.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HUB_XET_RETENTION_DAYS)
    linked = RepoBlob.objects.filter(blob__sha256=OuterRef("sha256"))
    stale_files = list(
        XetFile.objects.filter(last_used_at__lt=cutoff).exclude(Exists(linked)).values_list("pk", flat=True)
    )
    files = 0
    for batch in _batches(stale_files):
        with transaction.atomic():
            Xorb.objects.filter(file_links__file_id__in=batch).update(last_used_at=now)
            _, per_model = (
                XetFile.objects.filter(pk__in=batch, last_used_at__lt=cutoff).exclude(Exists(linked)).delete()
            )
            files += per_model.get(XetFile._meta.label, 0)
    xorbs = 0
    candidates = Xorb.objects.filter(last_used_at__lt=cutoff, file_links__isnull=True).values_list("pk", "hash")
    for pk, hash_hex in list(candidates):
        try:
            with transaction.atomic():
                deleted, _ = Xorb.objects.filter(pk=pk, last_used_at__lt=cutoff, file_links__isnull=True).delete()
        except (IntegrityError, ProtectedError):
            continue  # a shard named it in the meantime
        if deleted:
            xorb_delete(xorb_storage_key(hash_hex))
            xorbs += 1
    return XetCollection(files=files, xorbs=xorbs)
