"""Account suspension: a suspended user cannot log in, and their sessions and tokens are refused.

Suspension makes the account inactive, which every authentication path already refuses
(Django's session backend, ``tokens.token_authenticate``, the Xet token check); the moderation
app decides when and records why (``community.moderation``).
"""

from __future__ import annotations

from django.utils import timezone

from hub.models import User


def user_suspend(*, user: User, reason: str) -> User:
    """Suspend ``user`` for ``reason`` (a moderation reason code)."""
    user.is_active = False
    user.suspended_at = timezone.now()
    user.suspension_reason = reason
    user.save(update_fields=["is_active", "suspended_at", "suspension_reason"])
    return user


def user_unsuspend(*, user: User) -> User:
    """Lift the suspension of ``user``: they may log in again and their unrevoked tokens work."""
    user.is_active = True
    user.suspended_at = None
    user.suspension_reason = ""
    user.save(update_fields=["is_active", "suspended_at", "suspension_reason"])
    return user


def user_suspended_with_password(*, username: str, password: str) -> User | None:
    """The suspended account ``username`` if ``password`` is its password (for the log-in form to
    say the account is suspended rather than that the password is wrong); None otherwise."""
    user = User.objects.filter(username__iexact=username, is_active=False, suspended_at__isnull=False).first()
    if user is None or not user.check_password(password):
        return None
    return user
