"""Reading Xet files: decided per file by the repositories its content is linked to."""

from __future__ import annotations

from typing import Any

from common.errors import NotFound
from registry.models import Repo, RepoBlob
from registry.models_xet import XetFile
from registry.selectors.scans import scan_check_servable
from registry.services.xet.counters import _count
from registry.services.xet.index import XorbTables
from registry.services.xet.tokens import CasGrant
from registry.xet.reconstruction import FetchUrlBuilder, reconstruction_response
from registry.xet.types import FileTerm, unpack_terms


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
    scan_check_servable(repo=grant.repo, sha256=row.sha256)
    terms: list[FileTerm] = unpack_terms(bytes(row.terms))
    answer = reconstruction_response(terms, XorbTables().lookup, url_for, byte_range=byte_range)
    _count(reconstructions=1)
    return answer


def xet_file_hash_for_sha256(sha256: str) -> str | None:
    """The Xet hash of a file with this content, when the hub holds one (for Xet downloads)."""
    return XetFile.objects.filter(sha256=sha256).order_by("pk").values_list("file_hash", flat=True).first()
