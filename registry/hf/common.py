"""Shared pieces of the HF-compatible views: URLs, repository lookup, query parsing, pagination."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse
from django.urls import get_script_prefix

from common.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from common.inputs import text_bool, text_int
from registry.access import Permission, access_repo
from registry.choices import RepoType
from registry.errors import RepoNotFound
from registry.models import Repo

# ``/api/{plural}/…`` in the HF protocol; spaces and kernels are not repository types here.
API_TYPES = {"models": RepoType.MODEL, "datasets": RepoType.DATASET, "tutorials": RepoType.TUTORIAL}
UNSUPPORTED_TYPES = {"spaces", "kernels"}
# ``type`` values in JSON bodies (create/delete/move).
BODY_TYPES = {None: RepoType.MODEL, "model": RepoType.MODEL, "dataset": RepoType.DATASET, "tutorial": RepoType.TUTORIAL}


def api_type(plural: str) -> RepoType:
    if plural in API_TYPES:
        return API_TYPES[plural]
    if plural in UNSUPPORTED_TYPES:
        raise RepoNotFound(f"This hub hosts models, datasets and tutorials; {plural} are not supported.")
    raise NotFound(f"Unknown repository type '{plural}'.")


def body_type(value) -> RepoType:
    if (value is None or isinstance(value, str)) and value in BODY_TYPES:
        return BODY_TYPES[value]
    raise ValidationError(
        f"Unsupported repository type {value!r}: use model, dataset or tutorial.", fields={"type": ["Unsupported."]}
    )


def origin(request: HttpRequest) -> str:
    """Scheme, host and port of this request; ``origin(request) + reverse(...)`` is an absolute URL
    (``reverse`` already starts with the path prefix the hub is served under)."""
    return f"{request.scheme}://{request.get_host()}"


def base_url(request: HttpRequest) -> str:
    """The endpoint URL as the client sees it: the origin plus the path prefix the hub is served
    under (``HUB_PATH_PREFIX``), without a trailing slash — what ``HF_ENDPOINT`` is set to."""
    return origin(request) + get_script_prefix().rstrip("/")


def repo_url(request: HttpRequest, repo: Repo) -> str:
    return origin(request) + repo.web_path


def get_repo(
    request: HttpRequest, plural: str, namespace: str, name: str, *, need: Permission = Permission.READ
) -> Repo:
    try:
        return access_repo(
            user=request.user,
            repo_type=api_type(plural),
            namespace=namespace,
            name=name,
            need=need,
            token=getattr(request, "hub_token", None),
        )
    except RepoNotFound:
        # The Hub's words: the client's own message ("Repository Not Found for url: …") contains
        # them, so it shows no second, differently worded line.
        raise RepoNotFound("Repository not found") from None


PR_REF = re.compile(r"^refs/pr/\d+$")


def get_repo_for_push(request: HttpRequest, plural: str, namespace: str, name: str, revision: str | None) -> Repo:
    """The repository an upload targets. Branches need write access; pull requests (a
    ``refs/pr/N`` revision, or ``?create_pr=1``) are open to anyone who can read the repository —
    the commit itself then checks that the caller may push to that pull request."""
    if query_bool(request, "create_pr") or (revision and PR_REF.match(revision)):
        repo = get_repo(request, plural, namespace, name)
        if not request.user.is_authenticated:
            raise Unauthenticated("Log in or pass a token to propose changes.")
        token = getattr(request, "hub_token", None)
        if token is not None and not token.can_write:
            raise PermissionDenied("This token is read-only; create a token with the 'write' role.")
        return repo
    return get_repo(request, plural, namespace, name, need=Permission.WRITE)


def query_bool(request: HttpRequest, name: str, default: bool = False) -> bool:
    """``true``/``false``/``1``/``0`` as the client sends them; anything else is a 400."""
    return text_bool(request.GET.get(name), name, default=default)


# Offsets and page numbers past this are refused rather than handed to the database.
MAX_QUERY_INT = 10**9


def query_int(request: HttpRequest, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_QUERY_INT) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    return text_int(raw, name, minimum=minimum, maximum=maximum)


def paginated(
    request: HttpRequest, items: list, *, page_size: int, has_more: bool | None = None, next_cursor: str | None = None
) -> JsonResponse:
    """A JSON array page with a GitHub-style ``Link: <absolute URL>; rel="next"`` header.

    Without ``has_more``, ``items`` may hold one entry past the page, which only signals that a
    next page exists. Pages are addressed by the ``cursor`` query parameter: ``next_cursor`` when
    given (a keyset cursor), else an offset.
    """
    response = JsonResponse(items[:page_size], safe=False)
    if has_more if has_more is not None else len(items) > page_size:
        if next_cursor is None:
            next_cursor = str(query_int(request, "cursor", 0) + page_size)
        params = request.GET.copy()
        params["cursor"] = next_cursor
        next_url = request.build_absolute_uri(request.path) + "?" + urlencode(params, doseq=True)
        response["Link"] = f'<{next_url}>; rel="next"'
    return response
