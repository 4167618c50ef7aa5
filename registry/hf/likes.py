"""HF-compatible likes (HF_PROTOCOL.md §7.3): like and unlike a repository, a user's likes, and a
repository's likers. The like button and the REST API call the same service."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from common.timefmt import iso_z
from hub.hf import hf_endpoint, require_write_scope
from registry.hf.common import get_repo, paginated, query_int
from registry.selectors.likes import repo_likers_list, user_likes_list
from registry.services.counters import repo_like_set


def _page(request: HttpRequest, queryset) -> tuple[list, int]:
    offset = query_int(request, "cursor", 0)
    page_size = settings.HUB_LIST_PAGE_SIZE
    return list(queryset[offset : offset + page_size + 1]), page_size


@hf_endpoint(methods=("POST", "DELETE"))
def repo_like(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    """``POST`` (like) or ``DELETE`` (``HfApi.unlike``) ``/api/{type}s/{id}/like``."""
    user = require_write_scope(request)
    repo = get_repo(request, plural, namespace, name)
    state = repo_like_set(user=user, repo=repo, liked=request.method == "POST")
    return JsonResponse({"liked": state.liked, "likes": state.likes})


@hf_endpoint(methods=("GET",))
def user_likes(request: HttpRequest, username: str) -> JsonResponse:
    """``GET /api/users/{user}/likes`` (``list_liked_repos``): ``[{"createdAt", "repo": {"name", "type"}}]``."""
    likes, page_size = _page(request, user_likes_list(viewer=request.user, username=username))
    items = [
        {"createdAt": iso_z(like.created_at), "repo": {"name": like.repo.repo_id, "type": like.repo.type}}
        for like in likes
    ]
    return paginated(request, items, page_size=page_size)


@hf_endpoint(methods=("GET",))
def repo_likers(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    """``GET /api/{type}s/{id}/likers`` (``list_repo_likers``): ``[{"user", "fullname", "avatarUrl"}]``."""
    repo = get_repo(request, plural, namespace, name)
    people, page_size = _page(request, repo_likers_list(repo=repo))
    # No avatars are stored here; the client requires the key.
    items = [{"user": p.username, "fullname": p.fullname or p.username, "avatarUrl": ""} for p in people]
    return paginated(request, items, page_size=page_size)
