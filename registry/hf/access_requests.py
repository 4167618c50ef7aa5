"""HF-compatible access requests of gated repositories (HF_PROTOCOL.md §7.1): the pending,
accepted and rejected lists, decisions (``handle``) and ``grant_access``. Admins of the repository
only; the page in the repository's settings calls the same services."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from common.inputs import value_choice, value_str
from common.timefmt import iso_z
from hub.hf import hf_endpoint, read_json
from hub.selectors import user_get_by_name
from registry.access import Permission
from registry.choices import AccessRequestStatus
from registry.hf.common import get_repo, paginated, query_int
from registry.models import AccessRequest
from registry.selectors.access_requests import access_request_find, access_requests_list
from registry.services.access_requests import MAX_REASON, access_grant, access_request_decide, check_repo_gated


def access_request_shape(request: AccessRequest) -> dict:
    """One item of a list, as ``HfApi._list_access_requests`` reads it (``user`` an object, never null)."""
    user = request.user
    body = {
        "requestId": str(request.pk),
        "status": request.status,
        "timestamp": iso_z(request.created_at),
        "user": {"user": user.username, "fullname": user.fullname or user.username, "email": user.email or None},
        "fields": request.fields,
    }
    if request.status == AccessRequestStatus.REJECTED and request.reason:
        body["rejectionReason"] = request.reason
    return body


@hf_endpoint(methods=("GET",))
def access_request_list(request: HttpRequest, plural: str, namespace: str, name: str, status: str) -> JsonResponse:
    """``GET /api/{type}s/{id}/user-access-request/{pending|accepted|rejected}`` (paginated)."""
    repo = get_repo(request, plural, namespace, name, need=Permission.ADMIN)
    check_repo_gated(repo=repo)
    offset = query_int(request, "cursor", 0)
    page_size = settings.HUB_LIST_PAGE_SIZE
    requests = list(access_requests_list(repo=repo, status=status)[offset : offset + page_size + 1])
    return paginated(request, [access_request_shape(item) for item in requests], page_size=page_size)


@hf_endpoint(methods=("POST",))
def access_request_handle(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    """``POST …/user-access-request/handle``: ``{"user"|"requestId", "status", "rejectionReason"?}``
    (accept, reject, or back to pending — the client's ``cancel_access_request``)."""
    repo = get_repo(request, plural, namespace, name, need=Permission.ADMIN)
    body = read_json(request)
    status = value_choice(body, "status", tuple(AccessRequestStatus.values))
    reason = value_str(body, "rejectionReason", default="", max_length=MAX_REASON)
    request_id = value_str(body, "requestId", default=None, max_length=20)
    username = None if request_id is not None else value_str(body, "user", max_length=100)
    found = access_request_find(repo=repo, username=username, request_id=request_id)
    decided = access_request_decide(repo=repo, request=found, status=status, reason=reason, by=request.user)
    return JsonResponse(access_request_shape(decided))


@hf_endpoint(methods=("POST",))
def access_request_grant(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    """``POST …/user-access-request/grant`` with ``{"user"}``; the client reads a JSON body back."""
    repo = get_repo(request, plural, namespace, name, need=Permission.ADMIN)
    body = read_json(request)
    person = user_get_by_name(name=value_str(body, "user", max_length=100))
    granted = access_grant(repo=repo, user=person, by=request.user)
    return JsonResponse(access_request_shape(granted))
