"""CAS access tokens: signed, expiring grants on one repository, checked again on every CAS request."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing

from common.errors import PermissionDenied, Unauthenticated
from hub.models import ApiToken, User
from registry.access import Permission, check_can_read_files, repo_role
from registry.models import Repo
from registry.xet.protocol import XetTokenGrant

TOKEN_SALT = "registry.xet.cas"


class XetScope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class CasGrant:
    """What a CAS access token lets its bearer do, checked again on every CAS request."""

    repo: Repo
    user: Any  # User or AnonymousUser
    scope: XetScope


def xet_token_issue(
    *, repo: Repo, user, api_token: ApiToken | None, scope: XetScope, cas_url: str, for_pull_request: bool = False
) -> XetTokenGrant:
    """A signed, expiring CAS token for ``user`` on ``repo`` (access already checked by the caller).

    The token names the hub token it was obtained with, so revoking that token revokes it too. A
    write token ``for_pull_request`` is what a reader who proposes changes gets: it lets them upload
    content for ``repo``, which only a commit to their pull request can then reference.
    """
    expires_at = int(time.time()) + settings.HUB_XET_TOKEN_SECONDS
    payload = {
        "r": repo.pk,
        "u": user.pk if user is not None and user.is_authenticated else None,
        "k": api_token.pk if api_token is not None else None,
        "s": scope.value,
        "p": for_pull_request,
        "e": expires_at,
    }
    token = signing.dumps(payload, salt=TOKEN_SALT, compress=True)
    return XetTokenGrant(access_token=token, expires_at=expires_at, cas_url=cas_url)


def xet_token_check(*, token: str, need: XetScope) -> CasGrant:
    """The grant of a CAS token, if it still allows ``need``.

    ``Unauthenticated`` (401: the client fetches a new token and retries) for a malformed, expired
    or revoked token; ``PermissionDenied`` (403) when the token, or its user's current rights,
    do not cover ``need``. A write token also reads; a write token for pull requests needs only
    read access to the repository (anyone who reads it may propose changes).
    """
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
        repo_pk, user_pk, token_pk, scope, expires_at = (payload[k] for k in ("r", "u", "k", "s", "e"))
        for_pull_request = bool(payload.get("p"))
        scope = XetScope(scope)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Unauthenticated("Invalid Xet access token; ask the hub for a new one.") from None
    if expires_at <= time.time():
        raise Unauthenticated("This Xet access token has expired; ask the hub for a new one.")
    if need is XetScope.WRITE and scope is not XetScope.WRITE:
        raise PermissionDenied("This Xet access token only reads.")
    if user_pk is None:
        user = AnonymousUser()
    else:
        user = User.objects.filter(pk=user_pk, is_active=True).first()
        if user is None:
            raise Unauthenticated("The account of this Xet access token is disabled.")
        if (
            token_pk is not None
            and not ApiToken.objects.filter(pk=token_pk, user_id=user_pk, revoked_at__isnull=True).exists()
        ):
            raise Unauthenticated("The hub token this Xet access token came from was revoked.")
    repo = Repo.objects.visible_to(user).filter(pk=repo_pk).select_related("namespace").first()
    if repo is None:
        raise PermissionDenied("The repository of this Xet access token is gone or no longer visible to you.")
    if scope is XetScope.WRITE and not for_pull_request:
        role = repo_role(user=user, repo=repo)
        if role is None or role < Permission.WRITE:
            raise PermissionDenied(f"You are no longer allowed to write to {repo.repo_id}.")
    else:
        check_can_read_files(user=user, repo=repo)
    return CasGrant(repo=repo, user=user, scope=scope)
