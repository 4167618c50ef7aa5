"""Resumable uploads as the browser sees them: which parts of an open session already arrived."""

from __future__ import annotations

from django.conf import settings

from registry.choices import UploadStatus
from registry.models import Repo, UploadSession
from registry.services.uploads import upload_session_parts


def upload_received_parts(*, repo: Repo, user, sha256: str, size: int) -> list[int]:
    """Numbers of the parts already received by ``user``'s open multipart upload of this object
    (the session the LFS batch API hands out again when the same object is asked for), so an
    interrupted upload sends only what is missing. Empty when there is no such session."""
    session = (
        UploadSession.objects.filter(
            repo=repo, user=user, sha256=sha256.lower(), size=size, status=UploadStatus.OPEN,
            chunk_size=settings.HUB_MULTIPART_CHUNK_BYTES,
        )
        .order_by("-created_at")
        .first()
    )  # fmt: skip
    if session is None:
        return []
    return upload_session_parts(session=session)
