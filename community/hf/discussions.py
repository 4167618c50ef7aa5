"""HF-compatible discussions and pull requests (HF_PROTOCOL.md §2.7): thin adapters over
``community.services.discussions``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from common.errors import NotFound
from common.inputs import MAX_INT32, text_int, value_bool, value_str
from common.timefmt import iso_z
from community.choices import DiscussionEventType, DiscussionStatus
from community.models import Discussion, DiscussionEvent
from community.services import discussions as services
from hub.hf import hf_endpoint, read_json, require_user
from registry.hf.common import get_repo, query_int, repo_url
from registry.selectors.diffs import changes_as_patch, tree_changes
from registry.selectors.revisions import commit_get, ref_target

PAGE_SIZE = 50


def _author(user) -> dict:
    return {"name": user.username, "type": "user", "fullname": user.fullname or user.username} if user else {}


def event_json(event: DiscussionEvent) -> dict:
    body = {"id": str(event.pk), "type": event.type, "createdAt": iso_z(event.created_at)}
    if event.author is not None:
        body["author"] = _author(event.author)
    if event.type == DiscussionEventType.COMMENT:
        data = event.data
        content = "" if data.get("hidden") else data["content"]
        body["data"] = {
            "edited": data.get("edited", False),
            "hidden": data.get("hidden", False),
            "numEdits": len(data.get("history", [])),
            "latest": {
                "raw": content,
                "html": "",
                "updatedAt": iso_z(event.updated_at),
                "author": _author(event.author),
            },
        }
    elif event.type == DiscussionEventType.REVIEW_REQUEST:
        body["data"] = {"reviewers": event.data["reviewers"]}
    else:
        body["data"] = event.data
    return body


def discussion_json(discussion: Discussion) -> dict:
    body = {
        "num": discussion.num,
        "title": discussion.title,
        "status": discussion.status,
        "isPullRequest": discussion.is_pull_request,
        "createdAt": iso_z(discussion.created_at),
        "repo": {"name": discussion.repo.repo_id, "type": discussion.repo.type},
        "pinned": False,
    }
    if discussion.author is not None:
        body["author"] = _author(discussion.author)
    return body


def _discussion(repo, num: str | int) -> Discussion:
    num = text_int(str(num), "num", maximum=MAX_INT32)
    discussion = Discussion.objects.select_related("author", "repo__namespace").filter(repo=repo, num=num).first()
    if discussion is None:
        raise NotFound(f"Discussion #{num} not found in {repo.repo_id}.")
    return discussion


@hf_endpoint(methods=("GET", "POST"))
def discussion_list(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    """List newest first with ``type``/``status``/``author`` filters (GET), or open one (POST)."""
    repo = get_repo(request, plural, namespace, name)
    if request.method == "POST":
        user = require_user(request)
        body = read_json(request)
        discussion = services.discussion_create(
            repo=repo, user=user, title=value_str(body, "title", default=""),
            description=value_str(body, "description", default="", max_length=services.MAX_COMMENT),
            pull_request=value_bool(body, "pullRequest"),
        )  # fmt: skip
        return JsonResponse({"num": discussion.num, "url": f"{repo_url(request, repo)}/discussions/{discussion.num}"})
    queryset = Discussion.objects.filter(repo=repo).select_related("author", "repo__namespace").order_by("-num")
    kind = request.GET.get("type", "all")
    if kind == "pull_request":
        queryset = queryset.filter(is_pull_request=True)
    elif kind == "discussion":
        queryset = queryset.filter(is_pull_request=False)
    status = request.GET.get("status", "all")
    if status == "open":
        queryset = queryset.filter(status__in=[DiscussionStatus.OPEN, DiscussionStatus.DRAFT])
    elif status == "closed":
        queryset = queryset.filter(status__in=[DiscussionStatus.CLOSED, DiscussionStatus.MERGED])
    if request.GET.get("author"):
        queryset = queryset.filter(author__username__iexact=request.GET["author"])
    page = query_int(request, "p", 0)
    count = queryset.count()
    items = [discussion_json(d) for d in queryset[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]]
    return JsonResponse({"discussions": items, "count": count, "start": page * PAGE_SIZE, "numClosedDiscussions": 0})


@hf_endpoint(methods=("GET",))
def discussion_detail(request: HttpRequest, plural: str, namespace: str, name: str, num: int) -> JsonResponse:
    repo = get_repo(request, plural, namespace, name)
    discussion = _discussion(repo, num)
    body = discussion_json(discussion)
    body["events"] = [event_json(e) for e in discussion.events.select_related("author")]
    if discussion.is_pull_request:
        body["changes"] = {"base": discussion.target_ref}
        if discussion.merge_commit_oid:
            body["changes"]["mergeCommitId"] = discussion.merge_commit_oid
        head = commit_get(repo=repo, oid=ref_target(repo=repo, ref=discussion.git_reference))
        open_pr = discussion.status in {DiscussionStatus.OPEN, DiscussionStatus.DRAFT}
        body["filesWithConflicts"] = services.pull_request_conflicts(discussion=discussion) if open_pr else []
        if request.GET.get("diff") == "1":
            base = commit_get(repo=repo, oid=ref_target(repo=repo, ref=discussion.target_ref))
            body["diff"] = changes_as_patch(tree_changes(old_tree=base.tree_oid, new_tree=head.tree_oid))
    return JsonResponse(body)


def _action(request: HttpRequest, plural: str, namespace: str, name: str, num: int):
    repo = get_repo(request, plural, namespace, name)
    return require_user(request), _discussion(repo, num), read_json(request, required=False)


@hf_endpoint(methods=("POST",))
def discussion_comment(request, plural, namespace, name, num):
    user, discussion, body = _action(request, plural, namespace, name, num)
    content = value_str(body, "comment", max_length=services.MAX_COMMENT)
    event = services.comment_add(discussion=discussion, user=user, content=content)
    return JsonResponse({"newMessage": event_json(event)})


@hf_endpoint(methods=("POST",))
def discussion_status(request, plural, namespace, name, num):
    user, discussion, body = _action(request, plural, namespace, name, num)
    event = services.discussion_change_status(
        discussion=discussion, user=user, status=value_str(body, "status", max_length=20),
        comment=value_str(body, "comment", default="", max_length=services.MAX_COMMENT),
    )  # fmt: skip
    return JsonResponse({"newStatus": event_json(event)})


@hf_endpoint(methods=("POST",))
def discussion_title(request, plural, namespace, name, num):
    user, discussion, body = _action(request, plural, namespace, name, num)
    event = services.discussion_rename(discussion=discussion, user=user, title=value_str(body, "title", default=""))
    return JsonResponse({"newTitle": event_json(event)})


@hf_endpoint(methods=("POST",))
def discussion_merge(request, plural, namespace, name, num):
    user, discussion, body = _action(request, plural, namespace, name, num)
    comment = value_str(body, "comment", default="", max_length=services.MAX_COMMENT)
    outcome = services.pull_request_merge(discussion=discussion, user=user, comment=comment)
    return JsonResponse({"mergeCommitId": outcome.commit_oid, "fastForward": outcome.fast_forward})


def _comment(discussion: Discussion, comment_id: str) -> DiscussionEvent:
    pk = text_int(comment_id, "comment_id")
    event = discussion.events.filter(pk=pk).select_related("author", "discussion__repo").first()
    if event is None:
        raise NotFound("Comment not found.")
    return event


@hf_endpoint(methods=("POST",))
def comment_edit(request, plural, namespace, name, num, comment_id):
    user, discussion, body = _action(request, plural, namespace, name, num)
    content = value_str(body, "content", max_length=services.MAX_COMMENT)
    event = services.comment_edit(event=_comment(discussion, comment_id), user=user, content=content)
    return JsonResponse({"updatedComment": event_json(event)})


@hf_endpoint(methods=("POST",))
def comment_hide(request, plural, namespace, name, num, comment_id):
    user, discussion, _body = _action(request, plural, namespace, name, num)
    event = services.comment_hide(event=_comment(discussion, comment_id), user=user)
    return JsonResponse({"updatedComment": event_json(event)})
