"""Changing a repository in the browser: editing a file, the upload page, and likes."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import HubError, PreconditionFailed, Unauthenticated, ValidationError
from common.inputs import json_object
from community.services.changes import ChangeTarget, Landing, change_apply, change_target
from frontend.forms import FileEditForm
from frontend.markdown import markdown_render
from frontend.pages import page_view
from registry.access import check_can_read_files
from registry.cards import card_parse
from registry.errors import EntryNotFound
from registry.models import Repo
from registry.selectors.pages import README, file_read, looks_binary
from registry.selectors.revisions import revision_path_split, revision_resolve
from registry.selectors.uploads import upload_received_parts
from registry.services.commits import AddFile
from registry.services.counters import repo_like_set
from registry.services.uploads import check_object
from registry.storage import stage_bytes
from registry.trees import FileInfo, FolderInfo, tree_lookup
from registry.views.common import MAX_EDIT_BYTES, _context, _crumbs, _is_branch, _links, _repo, _url


def _destination(request: HttpRequest, repo: Repo, rev: str, *, create_pr: bool | None = None) -> ChangeTarget:
    """Where a change made in the browser goes (``community.services.changes``): onto a branch
    (people with write access, unless they ask for a pull request), into a new pull request
    against it (everyone else signed in), or onto the pull request being edited (``refs/pr/N``)."""
    if not request.user.is_authenticated:
        raise Unauthenticated(f"Log in to change {repo.repo_id}.")
    revision = revision_resolve(repo=repo, revision=rev)
    if not _is_branch(revision):
        raise ValidationError(f"'{rev}' is not a branch: changes are committed to branches.")
    return change_target(repo=repo, user=request.user, revision=revision.ref, create_pr=create_pr)


@require_http_methods(["GET", "POST"])
@page_view
def edit(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    """Edit a text file (``README.md`` above all) in the browser, preview markdown, then commit it,
    open a pull request with it, or add it to the pull request being edited."""
    repo = _repo(request, type_prefix, namespace, name)
    check_can_read_files(user=request.user, repo=repo)  # the form holds the file's contents
    rev, path = revision_path_split(repo=repo, rest=rest)
    destination = _destination(request, repo, rev)
    revision = revision_resolve(repo=repo, revision=destination.ref)
    if not path:
        raise EntryNotFound("Name the file to edit after the branch.")
    info = tree_lookup(revision.commit.tree_oid, path)
    if isinstance(info, FolderInfo):
        raise ValidationError(f"{path} is a folder.")
    original = ""
    if isinstance(info, FileInfo):
        data = file_read(file=info, limit=MAX_EDIT_BYTES + 1) if info.size <= MAX_EDIT_BYTES else b"\x00"
        if looks_binary(data):
            raise ValidationError(f"{path} is binary or larger than {MAX_EDIT_BYTES} bytes: upload a new version.")
        original = data.decode("utf-8")
    verb = "Update" if info is not None else "Create"
    form = FileEditForm(
        request.POST or None,
        initial={"content": original, "summary": f"{verb} {path}", "parent": revision.oid},
    )
    is_markdown = path.lower().endswith(".md")
    preview = None
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        if request.POST.get("action") == "preview":
            text = values["content"]
            body = card_parse(text, repo_type=repo.type).body if path == README else text
            rendered = markdown_render(body, links=_links(repo, rev, path))
            preview = {"html": SafeString(rendered.html), "has_math": rendered.has_math,
                       "has_mermaid": rendered.has_mermaid}  # fmt: skip
            if request.headers.get("X-Preview") == "fragment":
                return render(request, "registry/_markdown.html", {"markdown": preview})
        else:
            staged = stage_bytes(values["content"].encode("utf-8"))
            change = {
                "operations": [AddFile(path=path, staged=staged)], "summary": values["summary"] or f"{verb} {path}",
                "description": values["description"], "parent_commit": values["parent"],
            }  # fmt: skip
            try:
                if values["target"] == "pr" and destination.landing == Landing.BRANCH:
                    destination = _destination(request, repo, rev, create_pr=True)
                outcome = change_apply(repo=repo, user=request.user, target=destination, **change)
                if destination.landing == Landing.PULL_REQUEST:
                    return redirect(f"{repo.web_path}/discussions/{outcome.pull_request.num}/files")
                if destination.landing == Landing.NEW_PULL_REQUEST:
                    return redirect(f"{repo.web_path}/discussions/{outcome.pull_request.num}")
                return redirect(repo.web_path if path == README else _url(repo, "blob", rev, path))
            except (ValidationError, PreconditionFailed) as error:
                _form_error(form, error)
            finally:
                staged.discard()
    context = _context(
        request, repo, tab="files", rev=rev,
        path=path, crumbs=_crumbs(path), form=form, preview=preview, is_markdown=is_markdown, exists=info is not None,
        destination=destination,
    )  # fmt: skip
    return render(request, "registry/edit.html", context, status=400 if form.errors else 200)


def _form_error(form, error: HubError) -> None:
    if isinstance(error, PreconditionFailed):
        form.add_error(None, f"{error.message} Copy your text, reload the page and apply it again.")
        return
    for field, messages in error.fields.items():
        for message in messages:
            form.add_error("content" if field.startswith("README.md") else None, f"{field}: {message}")
    if not error.fields:
        form.add_error(None, error.message)


@require_GET
@page_view
def upload(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    """The upload page; ``static/js/upload.js`` does the work through the LFS batch and commit APIs
    (the commit API opens the pull request when one is asked for, with ``?create_pr=1``)."""
    repo = _repo(request, type_prefix, namespace, name)
    rev = rest.strip("/")
    destination = _destination(request, repo, rev)
    context = _context(
        request, repo, tab="files", rev=rev,
        revision=revision_resolve(repo=repo, revision=destination.ref),
        destination=destination,
        directory=request.GET.get("path", "").strip("/"),
        batch_url=f"{repo.web_path}.git/info/lfs/objects/batch",
        commit_url=f"/api/{repo.repo_type.api_plural}/{repo.repo_id}/commit/{quote(rev, safe='')}",
        parts_url=f"{repo.web_path}/upload-parts",
        lfs_threshold=settings.HUB_LFS_THRESHOLD_BYTES,
    )  # fmt: skip
    return render(request, "registry/upload.html", context)


@require_POST
def upload_parts(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> JsonResponse:
    """``{"oid", "size"}`` → ``{"parts": [numbers already received]}`` for resuming an upload.
    Readers may ask too (their uploads become pull requests); each sees only their own sessions."""
    try:
        repo = _repo(request, type_prefix, namespace, name)
        if not request.user.is_authenticated:
            raise Unauthenticated("Log in to upload.")
        try:
            body = json_object(request.body or b"{}")
        except ValidationError:
            raise ValidationError("The body must be a JSON object with oid and size.") from None
        sha256, size = check_object(oid=body.get("oid"), size=body.get("size"))
    except HubError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    return JsonResponse({"parts": upload_received_parts(repo=repo, user=request.user, sha256=sha256, size=size)})


@require_POST
@page_view
def like(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """Like or unlike (``action=unlike``); JSON for scripts, a redirect back for plain forms."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not request.user.is_authenticated:
        if wants_json:
            return JsonResponse({"error": "Log in to like repositories.", "code": "unauthenticated"}, status=401)
        return redirect_to_login(request.path.removesuffix("/like"))
    repo = _repo(request, type_prefix, namespace, name)
    state = repo_like_set(user=request.user, repo=repo, liked=request.POST.get("action") != "unlike")
    if wants_json:
        return JsonResponse({"liked": state.liked, "likes": state.likes})
    return redirect(repo.web_path)
