"""The files of a repository: folder listings, the file viewer and raw files."""

from __future__ import annotations

import contextlib
import json
import mimetypes

from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods

from frontend.highlight import highlight_lines
from frontend.markdown import markdown_render_cached
from frontend.pages import page_view
from frontend.security import RAW_FILE_POLICY
from registry.access import check_can_read_files
from registry.cards import card_parse
from registry.errors import EntryNotFound
from registry.hf.files import IMAGE_TYPES, serve_file
from registry.models import Repo
from registry.selectors.pages import README, file_read, looks_binary, repo_can_admin, repo_ref_choices
from registry.selectors.revisions import Revision, revision_path_split, revision_resolve
from registry.selectors.safetensors import SafetensorsError, safetensors_summary
from registry.selectors.scans import file_scans
from registry.trees import FileInfo, FolderInfo, tree_list, tree_lookup
from registry.views.common import (
    MAX_EDIT_BYTES,
    MAX_IMAGE_VIEW_BYTES,
    MAX_TEXT_VIEW_BYTES,
    MAX_VIEW_CHARS,
    MAX_VIEW_LINES,
    _context,
    _crumbs,
    _is_branch,
    _links,
    _repo,
    _url,
)


def _files_revision(request: HttpRequest, repo: Repo, rest: str, *, contents: bool = True) -> tuple[str, str, Revision]:
    """The revision and path of a file page; ``contents`` pages (not the file list, which a gated
    repository shows to everyone, as the Hub does) check that the visitor may read the files."""
    if contents:
        check_can_read_files(user=request.user, repo=repo)
    rev, path = revision_path_split(repo=repo, rest=rest)
    return rev, path.strip("/"), revision_resolve(repo=repo, revision=rev)


@require_GET
@page_view
def tree(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    rev, path, revision = _files_revision(request, repo, rest, contents=False)
    info = tree_lookup(revision.commit.tree_oid, path)
    if isinstance(info, FileInfo):
        return redirect(_url(repo, "blob", rev, path))
    if info is None:
        raise EntryNotFound(f"No folder '{path}' at {rev}.")
    entries = sorted(
        tree_list(revision.commit.tree_oid, path),
        key=lambda entry: (isinstance(entry, FileInfo), entry.path.rsplit("/", 1)[-1].lower()),
    )
    scans = file_scans(repo=repo, sha256s=[entry.sha256 for entry in entries if isinstance(entry, FileInfo)])
    context = _context(
        request, repo, tab="files", rev=rev,
        path=path,
        crumbs=_crumbs(path),
        entries=[{"info": entry, "name": entry.path.rsplit("/", 1)[-1], "is_file": isinstance(entry, FileInfo),
                  "scan": scans.get(entry.sha256) if isinstance(entry, FileInfo) else None}
                 for entry in entries],
        revision=revision,
        refs=repo_ref_choices(repo=repo),
        is_branch=_is_branch(revision),
    )  # fmt: skip
    return render(request, "registry/tree.html", context)


def _file_view(request: HttpRequest, repo: Repo, rev: str, file: FileInfo) -> dict:
    """What the file page shows for ``file``: a rendered markdown, a safetensors summary, an
    image, highlighted text (pretty JSON), or only its size and hash."""
    filename = file.path.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(filename)[0] or ""
    if filename.endswith(".safetensors"):
        try:
            return {"kind": "safetensors", "summary": safetensors_summary(file=file)}
        except SafetensorsError as error:
            return {"kind": "binary", "note": f"No summary: {error}"}
    if content_type in IMAGE_TYPES and file.size <= MAX_IMAGE_VIEW_BYTES:
        return {"kind": "image"}
    if file.size > MAX_TEXT_VIEW_BYTES:
        return {"kind": "binary", "note": "This file is too large to display."}
    data = file_read(file=file, limit=MAX_TEXT_VIEW_BYTES)
    if looks_binary(data):
        return {"kind": "binary", "note": "This file is binary."}
    text = data.decode("utf-8", "replace")
    if filename.lower().endswith(".md") and request.GET.get("plain") != "1":
        body = card_parse(text, repo_type=repo.type).body if filename == README else text
        rendered = markdown_render_cached(body, links=_links(repo, rev, file.path), content_id=file.sha256)
        return {"kind": "markdown", "html": SafeString(rendered.html), "has_math": rendered.has_math,
                "has_mermaid": rendered.has_mermaid}  # fmt: skip
    language = None
    if filename.endswith(".json"):
        language = "json"
        if "\n" not in text.strip():
            with contextlib.suppress(ValueError):  # invalid JSON is shown as it is
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    shown, total_lines = _text_head(text)
    return {
        "kind": "text",
        "lines": highlight_lines(shown, filename=filename, language=language),
        "total_lines": total_lines,
        "truncated": len(shown) < len(text),
    }


def _text_head(text: str) -> tuple[str, int]:
    """The start of ``text`` the page highlights (at most ``MAX_VIEW_LINES`` lines and
    ``MAX_VIEW_CHARS`` characters, cut at a line end unless the first line alone is longer), and
    the number of lines of the whole text."""
    total_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    end = 0
    for _ in range(MAX_VIEW_LINES):
        if end >= len(text):
            break
        newline = text.find("\n", end)
        line_end = len(text) if newline == -1 else newline + 1
        if line_end > MAX_VIEW_CHARS:
            end = end or MAX_VIEW_CHARS
            break
        end = line_end
    return text[:end], total_lines


@require_GET
@page_view
def blob(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    rev, path, revision = _files_revision(request, repo, rest)
    info = tree_lookup(revision.commit.tree_oid, path) if path else None
    if isinstance(info, FolderInfo):
        return redirect(_url(repo, "tree", rev, path))
    if info is None:
        raise EntryNotFound(f"{path or 'A file path'} does not exist at {rev}.")
    security = file_scans(repo=repo, sha256s=[info.sha256]).get(info.sha256)
    if security is not None and security.quarantined:
        # Not shown and not served (403, naming the scan); the owner may release it from here.
        view = {"kind": "quarantined"}
    else:
        view = _file_view(request, repo, rev, info)
    context = _context(
        request, repo, tab="files", rev=rev,
        path=path, crumbs=_crumbs(path), file=info, view=view, revision=revision,
        refs=repo_ref_choices(repo=repo), is_branch=_is_branch(revision),
        editable=view["kind"] in {"text", "markdown"} and info.size <= MAX_EDIT_BYTES,
        security=security,
        can_release=security is not None and security.quarantined and repo_can_admin(user=request.user, repo=repo),
    )  # fmt: skip
    status = 403 if view["kind"] == "quarantined" else 200
    return render(request, "registry/blob.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@page_view
def raw(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    """The bytes of a file, never interpreted as a page of the hub (``serve_file`` serves active
    types as text and sandboxes everything); images may use their own inline styles here."""
    repo = _repo(request, type_prefix, namespace, name)
    rev, path = revision_path_split(repo=repo, rest=rest)
    response = serve_file(request, repo, rev, path)
    response["Content-Security-Policy"] = RAW_FILE_POLICY
    return response
