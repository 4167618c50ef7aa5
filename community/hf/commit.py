"""``POST /api/{type}s/{repo}/commit/{rev}``: the NDJSON commit (HF_PROTOCOL.md §2.6 step 4).

The body is decoded as a stream: inline file contents go straight from base64 into staging files
(``registry.ndjson``), so a commit carrying gigabytes never sits in memory.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from common.errors import ValidationError
from common.inputs import value_int
from community.services.changes import Landing, change_apply, change_target
from hub.hf import hf_endpoint
from registry.hf.common import get_repo_for_push, query_bool, repo_url
from registry.ndjson import (
    CommitPayloadError,
    DeletedFileLine,
    DeletedFolderLine,
    FileLine,
    HeaderLine,
    LfsFileLine,
    iter_commit_lines,
)
from registry.services.commits import AddFile, AddLfsFile, DeleteFile, DeleteFolder
from registry.storage import BlobWriter


def _read_operations(request: HttpRequest):
    header = None
    operations = []
    try:
        lines = iter_commit_lines(
            request, content_sink_factory=lambda _path: BlobWriter(),
            max_line_bytes=settings.HUB_COMMIT_MAX_LINE_BYTES, max_lines=settings.HUB_COMMIT_MAX_LINES,
        )  # fmt: skip
        for line in lines:
            if isinstance(line, HeaderLine):
                header = line
            elif isinstance(line, FileLine):
                operations.append(AddFile(path=line.path, staged=line.content_handle))
            elif isinstance(line, LfsFileLine):
                if line.algo not in (None, "sha256"):
                    raise ValidationError(f"Unsupported LFS hash algorithm '{line.algo}' for {line.path}.")
                size = None if line.size is None else value_int(line.size, "size")
                operations.append(AddLfsFile(path=line.path, sha256=line.oid, size=size))
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
    """Commit to a branch, to an existing pull request (``refs/pr/N``), or open a pull request
    with the commit (``?create_pr=1``): ``community.services.changes`` decides which."""
    repo = get_repo_for_push(request, plural, namespace, name, revision)
    target = change_target(repo=repo, user=request.user, revision=revision, create_pr=query_bool(request, "create_pr"))
    header, operations = _read_operations(request)
    summary = header.summary
    if target.landing == Landing.NEW_PULL_REQUEST:
        summary = summary or "Upload files"
    try:
        outcome = change_apply(
            repo=repo, user=request.user, target=target, operations=operations,
            summary=summary,
            description=header.description or "", parent_commit=header.parent_commit,
        )  # fmt: skip
    finally:
        _discard(operations)
    body = {
        "commitUrl": f"{repo_url(request, repo)}/commit/{outcome.commit_oid}",
        "commitOid": outcome.commit_oid,
        "success": True,
    }
    if outcome.pull_request is not None:
        body["pullRequestUrl"] = f"{repo_url(request, repo)}/discussions/{outcome.pull_request.num}"
    return JsonResponse(body)
