"""Operational endpoints: ``/healthz`` (the process answers) and ``/readyz`` (its dependencies
do); and the 404 answer of URLs no route matches."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache

from common.errors import NotFound, error_response
from common.health import readiness

# Paths of the APIs: an unmatched one answers in the one JSON error shape, not with the HTML page.
API_PREFIXES = ("/api/",)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the site's 404 page, or for API paths the JSON error shape."""
    if request.path.startswith(API_PREFIXES):
        path = request.path if len(request.path) <= 200 else request.path[:200] + "…"
        return error_response(NotFound(f"No API endpoint at {path}."))
    return defaults.page_not_found(request, exception)


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
