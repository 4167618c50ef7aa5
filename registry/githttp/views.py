"""Git's smart HTTP protocol at ``/[datasets/|tutorials/]{ns}/{name}[.git]/…``: ``info/refs``,
``git-upload-pack`` (clone, fetch) and ``git-receive-pack`` (push), plus the LFS locking API,
answered as not supported.

Thin adapters: each view authenticates (HTTP Basic with a hub token as the password, or a bearer
token; never the browser session), checks access once with ``access_repo``, and hands the body to
the protocol handlers of ``registry.githttp.protocol``. Errors are short ``text/plain`` bodies,
which git prints after ``remote:``; an anonymous caller who may not see a repository gets 401 with
``WWW-Authenticate: Basic`` (as for a missing one, so private repositories stay unknown), so git
asks its credential helper and tries again.
"""

from __future__ import annotations

import functools
import zlib
from io import BytesIO

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from dulwich.errors import GitProtocolError, HangupException

from common.asgi import streams_request_body
from common.errors import HubError, PermissionDenied, Unauthenticated
from common.streaming import IteratorStreamingResponse
from hub.authentication import token_from_request
from hub.scopes import reads_over_post
from registry.access import Permission, access_repo, check_can_read_files
from registry.choices import RepoType
from registry.errors import GatedRepo, RepoNotFound
from registry.githttp.protocol import RepoBackend, handler_for
from registry.models import Repo
from registry.selectors.packs import commit_graph_load, refs_advertised

SERVICES = ("git-upload-pack", "git-receive-pack")
REALM = 'Basic realm="LLM Hub", charset="UTF-8"'


class _WrongMethod(HubError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, allowed: str) -> None:
        super().__init__(f"Use {allowed}.")
        self.allowed = allowed


class _WrongContentType(HubError):
    status = 415
    code = "unsupported_media_type"


def _text_error(error: HubError) -> HttpResponse:
    response = HttpResponse(error.message + "\n", status=error.status, content_type="text/plain; charset=utf-8")
    if error.status == 401:
        response["WWW-Authenticate"] = REALM
    if isinstance(error, _WrongMethod):
        response["Allow"] = error.allowed
    return response


def _no_cache(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    response["Expires"] = "Fri, 01 Jan 1980 00:00:00 GMT"
    response["Pragma"] = "no-cache"
    return response


def _authenticate(request: HttpRequest):
    """``(user, token)`` from the Authorization header alone."""
    token = token_from_request(request)
    return (token.user, token) if token is not None else (AnonymousUser(), None)


def _repo(request: HttpRequest, type_prefix: str | None, namespace: str, name: str, *, push: bool) -> Repo:
    """The repository, if the caller may fetch from it (``push``: and may try to push to it;
    which refs it may move is the push service's decision)."""
    user, token = _authenticate(request)
    request.user, request.hub_token = user, token
    if push and not user.is_authenticated:
        raise Unauthenticated("Authentication required: your user name and a hub token as the password.")
    if push and token is not None and not token.can_write:
        raise PermissionDenied("This token is read-only; create a token with the 'write' role to push.")
    repo_type = RepoType(type_prefix.rstrip("s")) if type_prefix else RepoType.MODEL
    try:
        repo = access_repo(
            user=user, repo_type=repo_type, namespace=namespace, name=name, need=Permission.READ, token=token
        )
        check_can_read_files(user=user, repo=repo)
    except (RepoNotFound, GatedRepo):
        if not user.is_authenticated:
            raise Unauthenticated("Authentication required: your user name and a hub token as the password.") from None
        raise
    return repo


class _Body:
    """The request body as the protocol reads it: ``read(n)`` blocks for ``n`` bytes (or the end);
    a gzip-encoded body (git compresses large negotiation requests) is inflated as it is read."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").lower()
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in {"gzip", "x-gzip"} else None
        self._buffer = b""

    def read(self, size: int) -> bytes:
        if self._inflate is None:
            return self._request.read(size)
        while len(self._buffer) < size:
            raw = self._request.read(65536)
            if not raw:
                self._buffer += self._inflate.flush()
                break
            self._buffer += self._inflate.decompress(raw)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _git_view(view):
    @csrf_exempt
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return _no_cache(view(request, *args, **kwargs))
        except HubError as error:
            return _no_cache(_text_error(error))
        except (GitProtocolError, HangupException) as error:
            return _no_cache(HttpResponse(f"{error}\n", status=400, content_type="text/plain; charset=utf-8"))

    return functools.wraps(view)(wrapper)


@_git_view
def info_refs(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """``GET …/info/refs?service=git-upload-pack|git-receive-pack``: the ref advertisement."""
    if request.method not in {"GET", "HEAD"}:
        raise _WrongMethod("GET")
    service = request.GET.get("service")
    if service not in SERVICES:
        raise PermissionDenied("This hub serves git's smart HTTP protocol only (git 1.6.6 or later).")
    repo = _repo(request, type_prefix, namespace, name, push=service == "git-receive-pack")
    out = BytesIO()
    backend = RepoBackend(
        repo=repo, refs=refs_advertised(repo=repo), graph=None, user=request.user, head=service == "git-upload-pack"
    )
    handler = handler_for(service, backend, read=BytesIO().read, write=out.write, advertise=True)
    handler.proto.write_pkt_line(f"# service={service}\n".encode())
    handler.proto.write_pkt_line(None)
    if service == "git-upload-pack":
        handler.negotiate()
    else:
        handler.handle()
    return HttpResponse(out.getvalue(), content_type=f"application/x-{service}-advertisement")


def _rpc(request: HttpRequest, service: str, type_prefix: str | None, namespace: str, name: str):
    """The protocol handler of a ``POST …/{service}`` and the buffer its answer goes to."""
    if request.method != "POST":
        raise _WrongMethod("POST")
    if request.META.get("CONTENT_TYPE") != f"application/x-{service}-request":
        raise _WrongContentType(f"Expected Content-Type application/x-{service}-request.")
    push = service == "git-receive-pack"
    repo = _repo(request, type_prefix, namespace, name, push=push)
    graph = None if push else commit_graph_load(repo=repo)
    backend = RepoBackend(repo=repo, refs=refs_advertised(repo=repo), graph=graph, user=request.user, head=not push)
    out = BytesIO()
    return handler_for(service, backend, read=_Body(request).read, write=out.write, advertise=False), out


@reads_over_post
@_git_view
def upload_pack(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """``POST …/git-upload-pack``: answer wants and haves; the pack streams as it is produced."""
    handler, out = _rpc(request, "git-upload-pack", type_prefix, namespace, name)
    plan = handler.negotiate()
    content_type = "application/x-git-upload-pack-result"
    if plan is None:
        return HttpResponse(out.getvalue(), content_type=content_type)

    def chunks():
        yield out.getvalue()
        yield from handler.pack_chunks(plan)

    return IteratorStreamingResponse(chunks(), content_type=content_type)


@streams_request_body
@_git_view
def receive_pack(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """``POST …/git-receive-pack``: a push; the push service decides, report-status answers."""
    handler, out = _rpc(request, "git-receive-pack", type_prefix, namespace, name)
    handler.handle()
    return HttpResponse(out.getvalue(), content_type="application/x-git-receive-pack-result")


@csrf_exempt
def lfs_locks(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """The LFS locking API (``…/info/lfs/locks…``): not supported, said the way git-lfs understands
    (501), so it stops asking for this remote instead of failing the push."""
    return JsonResponse(
        {"message": "File locking is not supported by this hub."},
        status=501,
        content_type="application/vnd.git-lfs+json",
    )
