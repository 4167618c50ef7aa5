"""``POST /api/{type}s/{repo}/commit/{rev}``: the NDJSON commit (HF_PROTOCOL.md §2.6 step 4).

The body is decoded as a stream: inline file contents go straight from base64 into staging files
(``registry.ndjson``), so a commit carrying gigabytes never sits in memory.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from common.errors import ValidationError
from common.inputs import MAX_INT32, text_int, value_int
from hub.hf import hf_endpoint
from hub.models import Discussion
from hub.services.discussions import check_can_push_to_pull_request, pull_request_commit, pull_request_propose
from registry.errors import RevisionNotFound
from registry.hf.common import PR_REF, get_repo_for_push, query_bool, repo_url
from registry.ndjson import (
    CommitPayloadError,
    DeletedFileLine,
    DeletedFolderLine,
    FileLine,
    HeaderLine,
    LfsFileLine,
    iter_commit_lines,
)
from registry.selectors.revisions import branch_ref, ref_target
from registry.services.commits import AddFile, AddLfsFile, DeleteFile, DeleteFolder, commit_create
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
    with the commit (``?create_pr=1``)."""
    create_pr = query_bool(request, "create_pr")
    pull_request = None
    repo = get_repo_for_push(request, plural, namespace, name, revision)
    user = request.user
    if not create_pr and PR_REF.match(revision):
        num = text_int(revision.rsplit("/", 1)[1], "revision", maximum=MAX_INT32)
        pull_request = Discussion.objects.filter(repo=repo, num=num).first()
        if pull_request is None:
            raise RevisionNotFound(f"Invalid rev id: {revision}")
        check_can_push_to_pull_request(discussion=pull_request, user=user)
    header, operations = _read_operations(request)
    change = {"operations": operations, "description": header.description or "", "parent_commit": header.parent_commit}
    try:
        if create_pr:
            pull_request = pull_request_propose(
                repo=repo, user=user, branch=revision.removeprefix("refs/heads/"),
                summary=header.summary or "Upload files", **change,
            )  # fmt: skip
            oid = ref_target(repo=repo, ref=pull_request.git_reference)
        elif pull_request is not None:
            oid = pull_request_commit(discussion=pull_request, user=user, summary=header.summary, **change).oid
        else:
            result = commit_create(repo=repo, user=user, ref=branch_ref(revision), summary=header.summary, **change)
            oid = result.commit.oid
    finally:
        _discard(operations)
    body = {
        "commitUrl": f"{repo_url(request, repo)}/commit/{oid}",
        "commitOid": oid,
        "success": True,
    }
    if pull_request is not None:
        body["pullRequestUrl"] = f"{repo_url(request, repo)}/discussions/{pull_request.num}"
    return JsonResponse(body)
