"""Token scopes, enforced in one place for every face of the hub.

A ``read`` token makes safe requests only. :class:`TokenScopeMiddleware` runs once the URL is
resolved, for every route — the REST API (``/api/v1``), the HF-compatible API, LFS, Xet, git smart
HTTP, inference and the OpenAI-compatible API, runs, leaderboards and the pages alike — and refuses
an unsafe method (POST, PUT, PATCH, DELETE) carried by a read-only token with 403 before the view
runs. No view has to remember the check, so a new endpoint is covered from its first line.

The exceptions are explicit and few, declared on the view itself:

* :func:`reads_over_post` — a view that only reads although the protocol sends a POST (HF
  ``paths-info``, ``validate-yaml``, git's ``git-upload-pack``, inference). ``when`` narrows the
  exception to some requests (the LFS batch API reads only when ``operation`` is ``download``).
* :func:`writes_over_get` — a view that hands out write power over a GET (the Xet write token),
  which a read token may not call either.

Session requests (the browser) carry no token and are not restricted here; their unsafe
requests pass Django's CSRF check instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from common.errors import HubError, PermissionDenied, error_response
from hub.authentication import token_from_request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
READS_OVER_POST = "token_scope_reads_over_post"
WRITES_OVER_GET = "token_scope_writes_over_get"


class ReadOnlyToken(PermissionDenied):
    code = "read_only_token"
    default_message = "This token is read-only; create a token with the 'write' role."


def reads_over_post(view=None, *, when: Callable[[HttpRequest], bool] | None = None):
    """Mark ``view`` (a function or a view class) as a read that a read token may call with an
    unsafe method; ``when(request)`` limits that to the requests it accepts."""

    def mark(target):
        setattr(target, READS_OVER_POST, when or _always)
        return target

    return mark(view) if view is not None else mark


def writes_over_get(view):
    """Mark ``view`` as a write (or a grant of write power) even when called with a safe method."""
    setattr(view, WRITES_OVER_GET, True)
    return view


def _always(request: HttpRequest) -> bool:
    return True


def _marker(view_func, name: str):
    for target in (view_func, getattr(view_func, "view_class", None), getattr(view_func, "cls", None)):
        if target is not None and (value := getattr(target, name, None)) is not None:
            return value
    return None


def request_writes(request: HttpRequest, view_func) -> bool:
    """Whether the request, routed to ``view_func``, needs a token with the write role."""
    if request.method in SAFE_METHODS:
        return bool(_marker(view_func, WRITES_OVER_GET))
    allowed = _marker(view_func, READS_OVER_POST)
    return not (allowed is not None and allowed(request))


class TokenScopeMiddleware:
    """Refuses writes made with a read-only token (see the module docstring); must follow
    ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request_writes(request, view_func):
            return None
        try:
            token = token_from_request(request)
        except HubError:
            # Not a hub token (a Xet CAS token, a malformed header): the view authenticates it.
            return None
        if token is None or token.can_write:
            return None
        return error_response(ReadOnlyToken())
