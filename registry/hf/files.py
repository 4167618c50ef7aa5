"""``HEAD|GET /[type/]{ns}/{name}/resolve/{rev}/{path}``: file downloads (HF_PROTOCOL.md §2.5)."""

from __future__ import annotations

import mimetypes
import re
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from common.errors import error_response
from hub.hf import hf_endpoint
from registry.access import access_repo, check_can_read_files
from registry.choices import RepoType
from registry.errors import EntryNotFound, RepoNotFound
from registry.hf.delivery import download_location, stored_file_response
from registry.hf.xet import xet_download_headers
from registry.models import Blob
from registry.selectors.revisions import revision_path_split, revision_resolve
from registry.selectors.scans import scan_check_servable
from registry.services.counters import download_record
from registry.trees import FileInfo, tree_lookup

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(start, end inclusive) for a single satisfiable range, None without one, "invalid" if unsatisfiable."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or (match.group(1) == "" and match.group(2) == ""):
        return None  # malformed or multi-range: serve the whole file, as RFC 9110 allows
    first, last = match.group(1), match.group(2)
    if first == "":
        length = int(last)
        if length == 0:
            return "invalid"
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "invalid"
    return start, end


IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/svg+xml"}
)
# Types a file keeps when served; other text is served as text/plain, anything else as octet-stream,
# so nothing a browser would render as a page (HTML, XML, scripts) runs in the hub's origin.
SAFE_TYPES = IMAGE_TYPES | {"text/plain", "application/json", "application/octet-stream", "application/pdf"}
TEXT_TYPES = ("text/", "application/xml", "application/javascript", "application/x-sh", "application/xhtml")
# Images that can carry scripts: an <img> on the file page still shows them, but a browser opening
# the URL itself downloads the file instead of rendering it in the hub's origin.
ATTACHMENT_TYPES = frozenset({"image/svg+xml"})


def served_content_type(path: str) -> str:
    """The Content-Type a repository file is served with."""
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if content_type not in SAFE_TYPES:
        textual = content_type.startswith(TEXT_TYPES) or content_type.endswith(("+xml", "+json"))
        content_type = "text/plain" if textual else "application/octet-stream"
    if content_type in {"text/plain", "application/json"}:
        content_type += "; charset=utf-8"
    return content_type


def _counts_download(request: HttpRequest) -> bool:
    return request.headers.get("X-HF-Download-Counter") == "1" or request.GET.get("download") in {"1", "true"}


def _client_key(request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def serve_file(request: HttpRequest, repo, revision: str, path: str) -> HttpResponse:
    """Answer a resolve request for ``path`` at ``revision`` of ``repo`` (access already checked)."""
    check_can_read_files(user=request.user, repo=repo)
    commit = revision_resolve(repo=repo, revision=revision).commit
    info = tree_lookup(commit.tree_oid, path)
    if not isinstance(info, FileInfo):
        return error_response(
            EntryNotFound(f"{path} does not exist at {revision}."), headers={"X-Repo-Commit": commit.oid}
        )
    scan_check_servable(repo=repo, sha256=info.sha256, path=path)
    blob = Blob.objects.get(sha256=info.sha256)
    etag = info.sha256 if info.lfs else info.oid
    content_type = served_content_type(path)
    disposition = "attachment" if content_type in ATTACHMENT_TYPES else "inline"
    content_disposition = f"{disposition}; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}"
    headers = {
        "X-Repo-Commit": commit.oid,
        "ETag": f'"{etag}"',
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=0, must-revalidate"
        if repo.private
        else "public, max-age=0, must-revalidate",
        "Content-Disposition": content_disposition,
        "Vary": "Authorization, Cookie",
        # Files are user content: a browser must never run them in the hub's origin (an SVG opened
        # directly is sandboxed too).
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
    }
    if info.lfs:
        headers["X-Linked-Etag"] = f'"{info.sha256}"'
        headers["X-Linked-Size"] = str(info.size)
        if settings.HUB_XET_DOWNLOADS:
            headers.update(xet_download_headers(request, repo=repo, commit=commit.oid, sha256=info.sha256))

    if request.method == "GET" and request.headers.get("If-None-Match", "").strip() in {f'"{etag}"', etag}:
        response = HttpResponse(status=304)
        for key, value in headers.items():
            response[key] = value
        return response

    location = download_location(blob=blob, info=info, content_type=content_type, disposition=content_disposition)
    if location is not None:
        # The metadata the client needs rides on the redirect itself (HF_PROTOCOL.md §2.5): it
        # does not follow a redirect to another origin on HEAD, nor send its token there.
        if request.method == "GET" and _counts_download(request):
            download_record(repo=repo, client_key=_client_key(request))
        response = HttpResponseRedirect(location)
        for key, value in headers.items():
            response[key] = value
        response["Cache-Control"] = "private, no-store"
        return response

    byte_range = _parse_range(request.headers.get("Range"), info.size)
    if byte_range == "invalid":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{info.size}"
        response["X-Repo-Commit"] = commit.oid
        return response
    start, end = byte_range if byte_range else (0, info.size - 1)
    length = end - start + 1 if info.size else 0
    if request.method == "HEAD":
        response = HttpResponse(status=206 if byte_range else 200, content_type=content_type)
        # Set explicitly: Django would otherwise send "Content-Length: 0" on an empty HEAD response,
        # and the client would save an empty file (HF_PROTOCOL.md §4).
        response["Content-Length"] = str(length)
        if byte_range:
            response["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    else:
        if _counts_download(request):
            download_record(repo=repo, client_key=_client_key(request))
        # A Range header read as a single range, or none: a proxy applying it sends these bytes.
        client_range = byte_range is not None or not request.headers.get("Range")
        response = stored_file_response(
            blob.storage_key, size=info.size, start=start, length=length, partial=byte_range is not None,
            content_type=content_type, client_range=client_range,
        )  # fmt: skip
    for key, value in headers.items():
        response[key] = value
    return response


@hf_endpoint(methods=("GET",))
def resolve(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str = "") -> HttpResponse:
    repo_type = RepoType(type_prefix.rstrip("s")) if type_prefix else RepoType.MODEL
    repo = access_repo(user=request.user, repo_type=repo_type, namespace=namespace, name=name)
    revision, path = revision_path_split(repo=repo, rest=rest, path_required=True)
    if not path:
        return error_response(EntryNotFound("A file path is required after the revision."))
    return serve_file(request, repo, revision, path)


@hf_endpoint(methods=("GET",))
def resolve_without_namespace(request: HttpRequest, name: str, rest: str, type_prefix: str = "") -> HttpResponse:
    """``/[type/]{name}/resolve/…``: ids without a namespace never exist here."""
    raise RepoNotFound(f"Repository {name} not found.")
