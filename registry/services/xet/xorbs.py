"""Xorbs: intake, verified as they stream in, and access to stored bytes for reconstructions.

Xorbs are global: any writer may name any stored xorb. A reader gets a presigned object-store URL
when the backend offers one, otherwise the hub's own URL with a signed data token.
"""

from __future__ import annotations

from typing import BinaryIO

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import PermissionDenied
from registry.models_xet import Xorb, xorb_storage_key
from registry.services.xet.counters import _count
from registry.services.xet.index import _xorb_row
from registry.storage import blob_storage
from registry.xet.hashing import hash_from_hex, hash_to_hex
from registry.xet.store import XorbSpool, presigned_url
from registry.xet.xorb import parse_xorb

DATA_URL_SALT = "registry.xet.data"


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
