"""The Xet endpoints (XET.md §1.3-1.4): hub-side token routes and the CAS the tokens point to.

* ``GET /api/{type}s/{ns}/{name}/xet-{read|write}-token/{rev}`` authenticates with the hub token and
  answers the CAS URL and a CAS token twice: JSON body (read by ``hf_xet``) and ``X-Xet-*`` headers
  (read by ``huggingface_hub`` to seed downloads).
* The CAS lives under ``/xet`` on the hub's own origin; every call carries the CAS token, checked
  again each time (``xet_token_check``). Bodies are read from the request as streams.
* Data URLs (``/xet/data/{token}``) authorise themselves: signed, expiring, bound to one byte
  range of one xorb. The client sends them no credentials.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from common.asgi import streams_request_body
from common.errors import HubError, Unauthenticated, error_response
from common.streaming import RangeFileResponse
from hub.hf import hf_endpoint
from hub.scopes import writes_over_get
from registry.access import check_can_read_files
from registry.hf.common import PR_REF, base_url, get_repo, get_repo_for_push, origin, query_bool
from registry.selectors.revisions import revision_resolve
from registry.services import xet as xet_services
from registry.services.xet import XetScope
from registry.storage import storage_open_range
from registry.xet.errors import XetError, XetRangeNotSatisfiable
from registry.xet.protocol import XORB_PREFIX
from registry.xet.reconstruction import parse_range_header

# The CAS URL handed to clients is the hub's endpoint (origin and path prefix) plus this path (a reserved
# first-level name).
CAS_PATH = "/xet"


def cas_url(request: HttpRequest) -> str:
    return base_url(request) + CAS_PATH


# ------------------------------------------------------------------------------------- tokens


def _token_response(request: HttpRequest, repo, scope: XetScope, *, for_pull_request: bool = False) -> JsonResponse:
    grant = xet_services.xet_token_issue(
        repo=repo, user=request.user, api_token=request.hub_token, scope=scope, cas_url=cas_url(request),
        for_pull_request=for_pull_request,
    )  # fmt: skip
    response = JsonResponse(grant.body())
    for name, value in grant.headers().items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


@writes_over_get
@hf_endpoint(methods=("GET",))
def write_token(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> JsonResponse:
    """A write token for uploads to ``revision``: a branch, ``refs/pr/N``, or ``None?create_pr=1``.

    Branches need write access. Pull requests are open to anyone who reads the repository, as for
    the commit and the LFS batch API: the commit then checks who may push to which pull request.
    The revision itself is not resolved here; the commit decides where the upload lands.
    """
    repo = get_repo_for_push(request, plural, namespace, name, revision)
    for_pull_request = query_bool(request, "create_pr") or bool(PR_REF.match(revision))
    if for_pull_request:
        check_can_read_files(user=request.user, repo=repo)
    return _token_response(request, repo, XetScope.WRITE, for_pull_request=for_pull_request)


@hf_endpoint(methods=("GET",))
def read_token(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> JsonResponse:
    """A read token for the files of ``repo`` (404 for an unknown revision, 403 for gated files)."""
    repo = get_repo(request, plural, namespace, name)
    check_can_read_files(user=request.user, repo=repo)
    revision_resolve(repo=repo, revision=revision)
    return _token_response(request, repo, XetScope.READ)


def xet_download_headers(request: HttpRequest, *, repo, commit: str, sha256: str) -> dict[str, str]:
    """Resolve headers that send the client to Xet for this content (``HUB_XET_DOWNLOADS``): the
    file's Xet hash and where to get a read token. Empty when the content has no Xet file."""
    file_hash = xet_services.xet_file_hash_for_sha256(sha256)
    if file_hash is None:
        return {}
    refresh = origin(request) + reverse(
        "xet-read-token",
        kwargs={"plural": repo.repo_type.api_plural, "namespace": repo.namespace.name, "name": repo.name,
                "revision": commit},
    )  # fmt: skip
    return {"X-Xet-Hash": file_hash, "Link": f'<{refresh}>; rel="xet-auth"'}


# ---------------------------------------------------------------------------------------- CAS


def _xet_error_response(error: XetError) -> JsonResponse:
    response = JsonResponse({"error": str(error)}, status=416 if isinstance(error, XetRangeNotSatisfiable) else 400)
    if isinstance(error, XetRangeNotSatisfiable):
        response["Content-Range"] = f"bytes */{error.file_size}"
    return response


def cas_endpoint(*, methods: tuple[str, ...], need: XetScope | None) -> Callable:
    """Decorate a CAS view: allow ``methods``, check the CAS token for ``need`` (None: the URL
    authorises itself) into ``request.xet_grant``, and answer errors as JSON.

    Protocol errors (``XetError``) are the client's fault: 400, or 416 for a range past the end.
    """
    allowed = [*methods, "HEAD"] if "GET" in methods else list(methods)

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @require_http_methods(allowed)
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                if need is not None:
                    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
                    if scheme.lower() != "bearer" or not token.strip():
                        raise Unauthenticated("Send the Xet access token: Authorization: Bearer <token>.")
                    request.xet_grant = xet_services.xet_token_check(token=token.strip(), need=need)
                return view(request, *args, **kwargs)
            except HubError as error:
                return error_response(error)
            except XetError as error:
                return _xet_error_response(error)

        return wrapper

    return decorator


@streams_request_body
@cas_endpoint(methods=("POST",), need=XetScope.WRITE)
def xorb_upload(request: HttpRequest, prefix: str, xorb_hash: str) -> JsonResponse:
    """``POST /v1/xorbs/default/{hash}``: ``{"was_inserted": bool}``, 400 if the bytes do not verify."""
    if prefix != XORB_PREFIX:
        return JsonResponse({"error": f"Unknown xorb prefix '{prefix}'."}, status=404)
    inserted = xet_services.xorb_receive(xorb_hash=xorb_hash, stream=request)
    return JsonResponse({"was_inserted": inserted})


@streams_request_body
@cas_endpoint(methods=("POST",), need=XetScope.WRITE)
def shard_upload(request: HttpRequest) -> JsonResponse:
    """``POST /v1/shards``: ``{"result": 1}`` (0 when nothing was new), 400 if any file fails a check."""
    outcome = xet_services.shard_receive(repo=request.xet_grant.repo, stream=request)
    return JsonResponse({"result": outcome.result})


@cas_endpoint(methods=("GET",), need=XetScope.READ)
def reconstruction(request: HttpRequest, file_hash: str) -> JsonResponse:
    """``GET /v1/reconstructions/{file_hash}`` with ``Range``: terms and per-xorb fetch URLs."""
    base = origin(request)

    def url_for(xorb_hash: str, start: int, last: int) -> str:
        presigned = xet_services.xorb_presigned_url(xorb_hash=xorb_hash)
        if presigned is not None:
            return presigned
        token = xet_services.xorb_data_token(xorb_hash=xorb_hash, start=start, last=last)
        return base + reverse("xet-data", kwargs={"token": token})

    answer = xet_services.xet_reconstruction(
        grant=request.xet_grant,
        file_hash=file_hash,
        byte_range=parse_range_header(request.headers.get("Range")),
        url_for=url_for,
    )
    return JsonResponse(answer)


@cas_endpoint(methods=("GET",), need=None)
def xorb_data(request: HttpRequest, token: str) -> HttpResponse:
    """Bytes of a stored xorb within the range its signed URL grants: 206, or 403 outside it."""
    xorb, start, last = xet_services.xorb_data_token_check(token=token)
    requested = parse_range_header(request.headers.get("Range"))
    if requested is None:
        first, final = start, last
    else:
        first, final = requested[0], last if requested[1] is None else requested[1]
    if not start <= first <= final <= last or final >= xorb.size:
        return JsonResponse({"error": f"This URL grants bytes {start}-{last} of the xorb only."}, status=403)
    length = final - first + 1
    key = xorb.storage_key
    if request.method == "HEAD":
        response = HttpResponse(status=206, content_type="application/octet-stream")
    else:
        response = RangeFileResponse(
            lambda: storage_open_range(key, start=first, length=length),
            start=0,
            length=length,
            status=206,
            content_type="application/octet-stream",
        )
    response["Content-Length"] = str(length)
    response["Content-Range"] = f"bytes {first}-{final}/{xorb.size}"
    response["Cache-Control"] = "private, max-age=0"
    return response


@csrf_exempt
def telemetry(request: HttpRequest) -> JsonResponse:
    """``POST /v1/telemetry``: the client reports transfer statistics; fire-and-forget, ignored."""
    return JsonResponse({})


@csrf_exempt
def not_implemented(request: HttpRequest, rest: str) -> JsonResponse:
    """Optional routes the client probes and falls back from on 404: ``/v1/chunks`` (global dedup),
    ``/v1/xorb-grants`` (direct-to-bucket uploads), ``/v2/shards``, ``/v2/reconstructions``.

    Unread request bodies are discarded by the server after the response.
    """
    return JsonResponse({"error": f"/{rest} is not served by this CAS."}, status=404)
