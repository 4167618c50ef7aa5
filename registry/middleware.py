"""Redirects from the former ids of moved repositories (HF_PROTOCOL.md §7.8)."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix

from registry.choices import RepoType
from registry.selectors.repos import repo_redirect_target

_PLURALS = {"models": RepoType.MODEL, "datasets": RepoType.DATASET, "tutorials": RepoType.TUTORIAL}
# ``/api/{plural}/{ns}/{name}[/…]`` (the HF API) and ``/[datasets/|tutorials/]{ns}/{name}[.git][/…]``
# (files, git, LFS and pages).
_API = re.compile(r"^/api/(?P<plural>models|datasets|tutorials)/(?P<namespace>[^/]+)/(?P<name>[^/]+)(?:/|$)")
_ROOT = re.compile(r"^/(?:(?P<plural>datasets|tutorials)/)?(?P<namespace>[^/]+)/(?P<name>[^/]+?)(?:\.git)?(?:/|$)")


class RepoRedirectMiddleware:
    """A request for a repository that finds nothing (404) and names the former id of a moved
    repository is answered with a 307 to the same URL under the current id, as the Hub does.

    307 keeps the method and body, so the stock client's API calls (which follow redirects) and its
    resolve HEAD (which follows same-origin redirects itself) reach the repository; the ``Location``
    is a path on the same origin, so tokens go along. Nothing is revealed about repositories the
    caller may not see.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        path = request.path_info
        match = _API.match(path) if path.startswith("/api/") else _ROOT.match(path)
        if match is None:
            return response
        repo = repo_redirect_target(
            user=getattr(request, "user", None),
            repo_type=_PLURALS[match["plural"] or "models"],
            namespace=match["namespace"],
            name=match["name"],
        )
        if repo is None:
            return response
        start, end = match.start("namespace"), match.end("name")
        location = quote(get_script_prefix().rstrip("/") + path[:start] + repo.repo_id + path[end:])
        if request.META.get("QUERY_STRING"):
            location += "?" + request.META["QUERY_STRING"]
        redirect = HttpResponse(status=307)
        redirect["Location"] = location
        return redirect
