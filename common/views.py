"""Operational endpoints: ``/healthz`` (the process answers) and ``/readyz`` (its dependencies
do); and the error answers of the URL configuration (404, 400, 500): the site's pages, or for API
paths the one JSON error shape — an API client never gets Django's HTML page."""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache

from common.errors import NotFound, PayloadTooLarge, ServerError, ValidationError, error_response
from common.health import readiness

# Paths of the APIs (REST, HF-compatible, OpenAI-compatible, the Xet CAS): an error there answers
# in the one JSON error shape, not with an HTML page.
API_PREFIXES = ("/api/", "/v1/", "/xet/")
# File routes the HF client and git-lfs call outside those prefixes.
API_PATH_PARTS = ("/resolve/", "/info/lfs/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or any(part in path for part in API_PATH_PARTS)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the site's 404 page, or for API paths the JSON error shape."""
    if request.path.startswith(API_PREFIXES):
        path = request.path if len(request.path) <= 200 else request.path[:200] + "…"
        return error_response(NotFound(f"No API endpoint at {path}."))
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400`` (Django's suspicious requests: a body over the size cap, too many fields)."""
    too_large = isinstance(exception, RequestDataTooBig)
    if is_api_path(request.path):
        if too_large:
            return error_response(PayloadTooLarge("The request body is over the size limit of this endpoint."))
        return error_response(ValidationError("The request is malformed."))
    response = defaults.bad_request(request, exception)
    if too_large:
        response.status_code = 413
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the site's 500 page, or for API paths the JSON error shape."""
    if is_api_path(request.path):
        return error_response(ServerError())
    return defaults.server_error(request)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    results = readiness()
    ok = all(result.ok for result in results)
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {r.name: {"ok": r.ok, "detail": r.detail, "duration_ms": r.duration_ms} for r in results},
    }
    return JsonResponse(body, status=200 if ok else 503)
