"""Operational endpoints: ``/healthz`` (the process answers) and ``/readyz`` (its dependencies do)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from common.health import readiness


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
