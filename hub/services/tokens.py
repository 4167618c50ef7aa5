"""API tokens: creation (the secret is shown once), revocation, authentication."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.errors import InvalidToken, NotFound, ValidationError
from hub.choices import AuditAction, TokenRole
from hub.models import ApiToken, User
from hub.services.audit import record

TOKEN_PREFIX = "hub_"
# ``last_used_at`` is written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def token_hash(*, secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user: User, name: str, role: str) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the plaintext secret, which is never stored."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ValidationError(
            "A token needs a name of 1 to 64 characters.", fields={"name": ["Give 1 to 64 characters."]}
        )
    try:
        role = TokenRole(role)
    except ValueError:
        raise ValidationError("Token role must be read or write.", fields={"role": ["Choose read or write."]}) from None
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= settings.HUB_MAX_TOKENS_PER_USER:
        raise ValidationError(f"You already have {settings.HUB_MAX_TOKENS_PER_USER} tokens; revoke one first.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, role=role, token_hash=token_hash(secret=secret),
            prefix=secret[: len(TOKEN_PREFIX) + 4],
        )  # fmt: skip
        _record(user, AuditAction.TOKEN_CREATE, token)
    return token, secret


def _record(user: User, action: AuditAction, token: ApiToken) -> None:
    record(
        actor=user, action=action, target_repr=f"token {token.name} ({token.prefix}…) of {user.username}",
        data={"token": token.pk, "name": token.name, "role": token.role},
    )  # fmt: skip


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens; revoking twice is a not-found."""
    token = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("No such active token.")
    token.revoked_at = timezone.now()
    with transaction.atomic():
        token.save(update_fields=["revoked_at"])
        _record(user, AuditAction.TOKEN_REVOKE, token)
    return token


def token_authenticate(*, secret: str) -> ApiToken:
    """The active token whose secret is ``secret``; records its use. Raises ``InvalidToken``."""
    token = (
        ApiToken.objects.select_related("user__namespace")
        .filter(token_hash=token_hash(secret=secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        raise InvalidToken("Invalid user token.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional UPDATE: concurrent requests write at most once per resolution window.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
