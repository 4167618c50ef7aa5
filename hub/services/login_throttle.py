"""Log-in throttling: failed attempts are counted per user name and per client address in Django's
cache (shared by every web process); past ``HUB_LOGIN_MAX_FAILURES`` for a name (five times that
for an address) the log-in form refuses to check passwords until ``HUB_LOGIN_LOCKOUT_SECONDS``
have passed since the last failure, and says so. A successful log-in clears the name's count."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from common.errors import RateLimited
from common.throttling import rate_check

# An address may fail more often than one name: several people share addresses (NAT).
ADDRESS_FACTOR = 5


def _keys(*, username: str, ip: str) -> tuple[str, str]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:name:{name}", f"login-failures:ip:{ip}"


def _count(key: str) -> tuple[int, float]:
    return cache.get(key, (0, 0.0))


def login_attempt_check(*, username: str, ip: str) -> None:
    """``RateLimited`` (with the seconds left) while ``username`` or ``ip`` is locked out."""
    limit, lockout = settings.HUB_LOGIN_MAX_FAILURES, settings.HUB_LOGIN_LOCKOUT_SECONDS
    name_key, ip_key = _keys(username=username, ip=ip)
    for key, allowed in ((name_key, limit), (ip_key, limit * ADDRESS_FACTOR)):
        failures, last = _count(key)
        if failures >= allowed:
            remaining = int(last + lockout - time.time()) + 1
            if remaining > 0:
                minutes = max(1, round(remaining / 60))
                raise RateLimited(
                    f"Too many failed log-ins. For your account's safety, log-in is locked for about "
                    f"{minutes} minute{'s' if minutes != 1 else ''}; you can also reset your password.",
                    retry_after=remaining,
                )


def login_failure_record(*, username: str, ip: str) -> None:
    lockout = settings.HUB_LOGIN_LOCKOUT_SECONDS
    for key in _keys(username=username, ip=ip):
        failures, _last = _count(key)
        cache.set(key, (failures + 1, time.time()), timeout=lockout)


def login_success_record(*, username: str, ip: str) -> None:
    name_key, _ip_key = _keys(username=username, ip=ip)
    cache.delete(name_key)


def signup_attempt_check(*, ip: str) -> None:
    """Count a sign-up from ``ip``; ``RateLimited`` past ``HUB_THROTTLE_SIGNUP``."""
    rate_check(scope="signup", ident=f"ip:{ip}", rate=settings.HUB_THROTTLE_SIGNUP)
