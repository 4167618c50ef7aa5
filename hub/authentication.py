"""Bearer-token authentication for the REST API and the HF-compatible API."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework import authentication, exceptions, permissions

from common.errors import InvalidToken
from hub.models import ApiToken
from hub.services.tokens import token_authenticate


def bearer_token_from_request(request: HttpRequest) -> ApiToken | None:
    """The token named by ``Authorization: Bearer …``; None when the header is absent or empty.

    A header that is present but malformed, or names an unknown or revoked token, raises
    ``InvalidToken`` (401): silently treating it as anonymous would turn a typo into a confusing
    "not found" on a private repository.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidToken("Malformed Authorization header; send 'Authorization: Bearer <token>'.")
    secret = secret.strip()
    if not secret:
        return None
    return token_authenticate(secret=secret)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """DRF adapter of :func:`bearer_token_from_request`; ``request.auth`` is the ``ApiToken``."""

    def authenticate(self, request):
        try:
            token = bearer_token_from_request(request._request)
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        if token is None:
            return None
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class TokenScopePermission(permissions.BasePermission):
    """A ``read`` token may only make safe requests."""

    message = "This token is read-only; create a token with the 'write' role."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return not isinstance(request.auth, ApiToken) or request.auth.can_write
