"""Uploads before they are committed: how each file of an upload should travel (the HF client's
preupload), and which parts of an open resumable session already arrived."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from common.errors import NotFound
from registry.choices import UploadPolicy, UploadStatus
from registry.git.attributes import GitAttributes
from registry.git.ignore import GitIgnore
from registry.models import Blob, Repo, UploadSession
from registry.selectors.pages import looks_binary
from registry.selectors.revisions import revision_resolve
from registry.services.uploads import upload_session_parts
from registry.storage import blob_open
from registry.trees import FileInfo, tree_lookup

GITATTRIBUTES = ".gitattributes"
GITIGNORE = ".gitignore"
CONFIG_FILE_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class UploadCandidate:
    path: str
    size: int
    sample: bytes  # the first bytes of the file (512 from the HF client)


@dataclass(frozen=True)
class UploadAdvice:
    path: str
    lfs: bool
    ignored: bool
    remote_oid: str | None  # what the path holds now, comparable with the client's id of the file


def _config_file(tree: str, path: str) -> bytes | None:
    current = tree_lookup(tree, path)
    if not isinstance(current, FileInfo):
        return None
    with blob_open(Blob.objects.get(sha256=current.sha256)) as handle:
        return handle.read(CONFIG_FILE_LIMIT)


def upload_advice(
    *, repo: Repo, revision: str, files: list[UploadCandidate], gitignore: str | None = None
) -> list[UploadAdvice]:
    """How each file of an upload to ``revision`` should be sent, by the Hub's rules: LFS when
    ``.gitattributes`` tracks the path, the file is at least ``HUB_LFS_THRESHOLD_BYTES`` or looks
    binary — never when empty — unless ``HUB_UPLOAD_POLICY`` is ``regular``; ignored when the
    ``.gitignore`` of the same commit (``gitignore``), else the revision's, excludes it.
    A revision that does not exist yet (a branch the upload creates) is judged by the default branch.
    """
    try:
        tree = revision_resolve(repo=repo, revision=revision).commit.tree_oid
    except NotFound:
        tree = revision_resolve(repo=repo, revision=repo.default_branch).commit.tree_oid
    attributes = None
    if UploadPolicy(settings.HUB_UPLOAD_POLICY) != UploadPolicy.REGULAR:
        attributes = GitAttributes.from_bytes(_config_file(tree, GITATTRIBUTES) or b"")
    if gitignore is not None:
        ignore = GitIgnore(gitignore)
    else:
        ignore = GitIgnore.from_bytes(_config_file(tree, GITIGNORE) or b"")
    advice = []
    for item in files:
        lfs = attributes is not None and item.size > 0 and (
            attributes.is_lfs(item.path) or item.size >= settings.HUB_LFS_THRESHOLD_BYTES or looks_binary(item.sample)
        )  # fmt: skip
        current = tree_lookup(tree, item.path) if item.path else None
        oid = None
        if isinstance(current, FileInfo):
            oid = current.sha256 if (current.lfs and lfs) else (current.oid if not current.lfs else None)
        advice.append(UploadAdvice(path=item.path, lfs=lfs, ignored=ignore.is_ignored(item.path), remote_oid=oid))
    return advice


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
