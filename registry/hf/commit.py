"""``POST /api/{type}s/{repo}/commit/{rev}``: the NDJSON commit (HF_PROTOCOL.md §2.6 step 4).

The body is decoded as a stream: inline file contents go straight from base64 into staging files
(``registry.ndjson``), so a commit carrying gigabytes never sits in memory.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from common.errors import ValidationError
from hub.hf import hf_endpoint
from registry.access import Permission
from registry.hf.common import get_repo, query_bool, repo_url
from registry.ndjson import (
    CommitPayloadError,
    DeletedFileLine,
    DeletedFolderLine,
    FileLine,
    HeaderLine,
    LfsFileLine,
    iter_commit_lines,
)
from registry.selectors.revisions import branch_ref
from registry.services.commits import AddFile, AddLfsFile, DeleteFile, DeleteFolder, commit_create
from registry.storage import BlobWriter


def _read_operations(request: HttpRequest):
    header = None
    operations = []
    try:
        for line in iter_commit_lines(request, content_sink_factory=lambda _path: BlobWriter()):
            if isinstance(line, HeaderLine):
                header = line
            elif isinstance(line, FileLine):
                operations.append(AddFile(path=line.path, staged=line.content_handle))
            elif isinstance(line, LfsFileLine):
                if line.algo not in (None, "sha256"):
                    raise ValidationError(f"Unsupported LFS hash algorithm '{line.algo}' for {line.path}.")
                operations.append(AddLfsFile(path=line.path, sha256=line.oid, size=line.size))
            elif isinstance(line, DeletedFileLine):
                operations.append(DeleteFile(path=line.path))
            elif isinstance(line, DeletedFolderLine):
                operations.append(DeleteFolder(path=line.path))
    except CommitPayloadError as error:
        _discard(operations)
        raise ValidationError(f"Malformed commit payload (line {error.line}): {error.message}") from None
    except BaseException:
        _discard(operations)
        raise
    if header is None:
        _discard(operations)
        raise ValidationError("The commit payload has no header line.")
    return header, operations


def _discard(operations) -> None:
    for op in operations:
        if isinstance(op, AddFile):
            op.staged.discard()


@hf_endpoint(methods=("POST",))
def commit(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> JsonResponse:
    repo = get_repo(request, plural, namespace, name, need=Permission.WRITE)
    user = request.user
    if query_bool(request, "create_pr"):
        raise ValidationError("Pull requests are not available on this hub yet; commit to a branch instead.")
    header, operations = _read_operations(request)
    try:
        result = commit_create(
            repo=repo,
            user=user,
            ref=branch_ref(revision),
            operations=operations,
            summary=header.summary,
            description=header.description or "",
            parent_commit=header.parent_commit,
        )
    finally:
        _discard(operations)
    return JsonResponse(
        {
            "commitUrl": f"{repo_url(request, repo)}/commit/{result.commit.oid}",
            "commitOid": result.commit.oid,
            "success": True,
        }
    )
