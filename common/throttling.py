"""Rate limits of the REST API: one budget per authenticated user, one per client IP.

Rates are read from settings on every request (not frozen at import), so an operator's change
of ``API_THROTTLE_*`` and a test's override both take effect.
"""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings


class _SettingsRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserRateThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """Requests per authenticated user (anonymous requests are left to the IP budget)."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None


class IpRateThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """Requests per client IP, whoever is authenticated."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
