"""Plumbing shared by every HF-compatible endpoint, and the account endpoints of that API.

The ``huggingface_hub`` client is strict about a few things (HF_PROTOCOL.md §1, §4): no trailing
slashes, no redirects on POST, JSON errors with ``X-Error-Code``, bearer tokens on every call and
anonymous access to public data. :func:`hf_endpoint` gives each view exactly that.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from common.errors import HubError, PermissionDenied, Unauthenticated, ValidationError, error_response
from common.inputs import json_object
from hub.authentication import token_from_request
from hub.selectors import user_memberships_list

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(PermissionDenied(f"CSRF check failed: {reason}"))


def hf_endpoint(*, methods: tuple[str, ...]) -> Callable:
    """Decorate an HF-API view: authenticate, allow ``methods``, map ``HubError`` to JSON errors.

    Callers authenticate with a token — bearer, or Basic with the token as password, as git-lfs
    sends it (``request.hub_token`` is then set); browsers with their session, in which case unsafe
    methods must pass Django's CSRF check.
    """
    allowed = frozenset(method.upper() for method in methods)
    if "GET" in allowed:
        allowed |= {"HEAD"}

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                if request.method not in allowed:
                    response = error_response(HubError(f"Method {request.method} is not allowed here."))
                    response.status_code = 405
                    response["Allow"] = ", ".join(sorted(allowed))
                    return response
                token = token_from_request(request)
                request.hub_token = token
                if token is not None:
                    request.user = token.user
                elif request.user.is_authenticated and request.method not in SAFE_METHODS:
                    csrf = CsrfViewMiddleware(lambda r: None)
                    rejection = csrf.process_view(request, None, (), {})
                    if rejection is not None:
                        return _csrf_failure(request, "send the X-CSRFToken header with session requests")
                elif not request.user.is_authenticated:
                    request.user = AnonymousUser()
                return view(request, *args, **kwargs)
            except HubError as error:
                return error_response(error)

        return wrapper

    return decorator


def require_user(request: HttpRequest):
    """The authenticated user, or ``Unauthenticated``."""
    if not request.user.is_authenticated:
        raise Unauthenticated("You must be authenticated: pass a token (Authorization: Bearer …).")
    return request.user


def require_write_scope(request: HttpRequest):
    """The authenticated user, refusing read-only tokens."""
    user = require_user(request)
    token = getattr(request, "hub_token", None)
    if token is not None and not token.can_write:
        raise PermissionDenied("This token is read-only; create a token with the 'write' role.")
    return user


def read_json(request: HttpRequest, *, required: bool = True) -> dict:
    """The JSON object in the request body (checked by :func:`common.inputs.json_object`: depth,
    NUL); a clear 400 for anything else."""
    if not request.body:
        if required:
            raise ValidationError("The request body must be a JSON object.")
        return {}
    return json_object(request.body)


@hf_endpoint(methods=("GET",))
def whoami_v2(request: HttpRequest) -> JsonResponse:
    """``GET /api/whoami-v2``: who the token (or session) belongs to."""
    user = require_user(request)
    token = request.hub_token
    orgs = [
        {"type": "org", "name": m.organization.name, "fullname": m.organization.fullname, "roleInOrg": m.role}
        for m in user_memberships_list(user=user)
    ]
    body = {
        "type": "user",
        "id": str(user.pk),
        "name": user.username,
        "fullname": user.fullname or user.username,
        "email": user.email,
        "emailVerified": False,
        "isPro": False,
        "orgs": orgs,
        "auth": {"type": "access_token", "accessToken": {"displayName": token.name, "role": token.role}}
        if token is not None
        else {"type": "session"},
    }
    return JsonResponse(body)


@hf_endpoint(methods=("GET",))
def agent_harnesses(request: HttpRequest) -> JsonResponse:
    """``GET /api/agent-harnesses``: the client asks once a day; we advertise none."""
    return JsonResponse({"standardEnvVars": [], "harnesses": {}})
