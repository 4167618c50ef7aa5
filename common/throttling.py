"""Rate limits: the client address behind trusted proxies, fixed-window counters in Django's
cache (shared by every web process), and the REST API's throttles — one budget per authenticated
user, one per client address for anonymous callers.

Rates are read from settings on every request (not frozen at import), so an operator's change
of ``API_THROTTLE_*`` and a test's override both take effect.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import throttling
from rest_framework.settings import api_settings

from common.errors import RateLimited

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request: HttpRequest) -> str:
    """The caller's address: the peer, or with ``HUB_TRUSTED_PROXIES = N`` the address the
    outermost of those N proxies saw (N hops from the right of ``X-Forwarded-For``). Entries a
    client wrote itself sit further left and are never read, so they cannot pick a budget."""
    peer = request.META.get("REMOTE_ADDR", "")
    trusted = settings.HUB_TRUSTED_PROXIES
    if not trusted:
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    chain = [*hops, peer]
    return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]


def parse_rate(rate: str) -> tuple[int, int]:
    """``"100/hour"`` → ``(100, 3600)``."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period[0]]


def rate_check(*, scope: str, ident: str, rate: str) -> None:
    """Count one request of ``ident`` against ``rate`` in a fixed window; ``RateLimited`` (429,
    with the seconds to the next window) once the window's budget is spent."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"throttle:{scope}:{ident}:{window}"
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
    if count > limit:
        raise RateLimited(retry_after=max(1, int((window + 1) * period - now)))


class _SettingsRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_ip(request._request if hasattr(request, "_request") else request)


class UserRateThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """Requests per authenticated user (anonymous requests are left to the address budget)."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None


class IpRateThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """Requests per client address, for anonymous callers: an authenticated user has a budget of
    their own, so one busy client behind a shared address (a NAT) locks nobody else out."""

    scope = "ip"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
