"""Rate limits of the surfaces outside the REST API, decided in one table and applied by one
middleware: the HF-compatible API, file downloads (``resolve``), the LFS batch API and its
transfer URLs, and the Xet CAS. (The REST API and inference use DRF's throttles,
``common.throttling``; the log-in and sign-up forms count in ``hub.services.login_throttle``.)

Authenticated callers (a hub token or the session) are counted per user, anonymous ones per client
address (``common.throttling.client_ip``, behind ``HUB_TRUSTED_PROXIES``). A caller past its budget
gets 429 with ``Retry-After``, in the JSON error shape, which the HF client and git-lfs both honour.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from common.errors import HubError, RateLimited, error_response
from common.throttling import client_ip, rate_check
from hub.authentication import token_from_request

# (surface, path test, user rate setting, anonymous rate setting); the first match wins.
SURFACES = (
    ("xet", lambda path: path.startswith("/xet/"), "HUB_THROTTLE_XET", "HUB_THROTTLE_XET"),
    ("lfs", lambda path: "/info/lfs/" in path or path.startswith("/api/lfs/"), "HUB_THROTTLE_LFS_USER",
     "HUB_THROTTLE_LFS_ANON"),
    ("files", lambda path: "/resolve/" in path and not path.startswith("/api/"), "HUB_THROTTLE_FILES_USER",
     "HUB_THROTTLE_FILES_ANON"),
    ("hf", lambda path: path.startswith("/api/") and not path.startswith("/api/v1/"), "HUB_THROTTLE_HF_USER",
     "HUB_THROTTLE_HF_ANON"),
)  # fmt: skip


def _caller(request: HttpRequest) -> str | None:
    """``user:<pk>`` for a hub token or a session, None for anonymous callers."""
    try:
        token = token_from_request(request)
    except HubError:
        token = None  # a CAS token or a bad header: the view answers it
    if token is not None:
        return f"user:{token.user_id}"
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None


def surface_rate_check(request: HttpRequest) -> None:
    """Count ``request`` against its surface's budget; ``RateLimited`` past it."""
    for surface, matches, user_rate, anonymous_rate in SURFACES:
        if matches(request.path):
            caller = _caller(request) if surface != "xet" else None
            if caller is None:
                rate_check(scope=surface, ident=f"ip:{client_ip(request)}", rate=getattr(settings, anonymous_rate))
            else:
                rate_check(scope=surface, ident=caller, rate=getattr(settings, user_rate))
            return


class SurfaceThrottleMiddleware:
    """Applies :func:`surface_rate_check`; must follow ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            surface_rate_check(request)
        except RateLimited as error:
            return error_response(error)
        return self.get_response(request)
