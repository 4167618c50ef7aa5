"""Token authentication: bearer tokens for the REST API and the HF-compatible API, and HTTP Basic
with the token as password for git and git-lfs, which get credentials from git's helpers."""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest
from rest_framework import authentication, exceptions

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


def basic_token_from_request(request: HttpRequest) -> ApiToken | None:
    """The token sent as the password of ``Authorization: Basic`` (any user name, as git's
    credential helpers send one); None without such a header.

    A password that is not an active token raises ``InvalidToken`` (401), so git asks again
    instead of carrying on anonymously.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidToken("Malformed Basic credentials; send a user name and a hub token as the password.") from None
    _username, _, secret = decoded.partition(":")
    if not secret:
        raise InvalidToken("Send a hub token as the password (Settings → Access tokens).")
    return token_authenticate(secret=secret)


def token_from_request(request: HttpRequest) -> ApiToken | None:
    """The token of ``Authorization: Bearer …`` or ``Authorization: Basic …`` (see above).

    Remembered on the request: the scope middleware and the view both ask for it.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    remembered = request.__dict__.get("_token_from_header")
    if remembered is not None and remembered[0] == header:
        return remembered[1]
    if header.strip().lower().startswith("basic "):
        token = basic_token_from_request(request)
    else:
        token = bearer_token_from_request(request)
    request._token_from_header = (header, token)
    return token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """DRF adapter of :func:`bearer_token_from_request`; ``request.auth`` is the ``ApiToken``."""

    def authenticate(self, request):
        try:
            # Basic credentials are for git; here they are refused as a malformed bearer header.
            raw = request._request
            is_basic = raw.META.get("HTTP_AUTHORIZATION", "").strip().lower().startswith("basic ")
            token = bearer_token_from_request(raw) if is_basic else token_from_request(raw)
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        if token is None:
            return None
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
