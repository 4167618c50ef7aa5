"""HTML pages of one repository: its card, files, file viewer, raw files, history, commits, editing,
uploading, likes and tutorial pages.

Thin views: ``access_repo`` fetches and checks, selectors read, services write; markdown goes
through ``frontend.markdown`` (rendered and sanitised on the server). Templates live in
``frontend/templates/registry/``.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import HubError, PreconditionFailed, Unauthenticated, ValidationError
from frontend.forms import FileEditForm
from frontend.highlight import highlight_lines
from frontend.markdown import LinkBase, markdown_render, markdown_render_cached
from frontend.pages import page_view
from frontend.security import RAW_FILE_POLICY
from frontend.snippets import usage_snippets
from hub.models import Discussion
from hub.services.discussions import (
    can_moderate,
    check_can_push_to_pull_request,
    pull_request_commit,
    pull_request_propose,
)
from registry.access import Permission, access_repo, check_can_read_files
from registry.cards import card_parse
from registry.choices import RepoType
from registry.errors import EntryNotFound, RevisionNotFound
from registry.hf.files import IMAGE_TYPES, serve_file
from registry.models import Repo
from registry.selectors.commits import commit_history
from registry.selectors.community import community_open_count, discussion_get
from registry.selectors.diffs import commit_changes, file_diff
from registry.selectors.pages import (
    README,
    card_of,
    file_read,
    looks_binary,
    markdown_file_text,
    repo_can_write,
    repo_liked,
    repo_overview,
    repo_ref_choices,
    tutorial_page_file,
    tutorial_pages,
)
from registry.selectors.revisions import Revision, commit_get, revision_path_split, revision_resolve
from registry.selectors.safetensors import SafetensorsError, safetensors_parameter_total, safetensors_summary
from registry.selectors.uploads import upload_received_parts
from registry.services.commits import AddFile, commit_create
from registry.services.counters import like_add, like_remove
from registry.services.uploads import check_object
from registry.storage import stage_bytes
from registry.trees import FileInfo, FolderInfo, tree_list, tree_lookup

COMMITS_PAGE_SIZE = 30
# Files larger than this are not shown inline on the file page (download them instead).
MAX_TEXT_VIEW_BYTES = 1024 * 1024
MAX_IMAGE_VIEW_BYTES = 20 * 1000 * 1000
MAX_EDIT_BYTES = 1024 * 1024
# Commit pages show line diffs for this many files; the rest are listed.
MAX_DIFFED_FILES = 40
# Shards whose headers are read for the parameter count of a repository page.
MAX_SAFETENSORS_FILES = 64


def _repo(request: HttpRequest, type_prefix: str | None, namespace: str, name: str, *, need=Permission.READ) -> Repo:
    repo_type = RepoType(type_prefix[:-1]) if type_prefix else RepoType.MODEL
    return access_repo(user=request.user, repo_type=repo_type, namespace=namespace, name=name, need=need)


def _url(repo: Repo, action: str, rev: str = "", path: str = "") -> str:
    url = f"{repo.web_path}/{action}"
    if rev:
        url += "/" + quote(rev, safe="/")
    if path:
        url += "/" + quote(path, safe="/")
    return url


def _links(repo: Repo, rev: str, path: str) -> LinkBase:
    """Relative links of the markdown file ``path`` open pages; images load the files themselves."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return LinkBase(
        page_prefix=_url(repo, "blob", rev) + "/", file_prefix=_url(repo, "resolve", rev) + "/", folder=folder
    )


def _context(request: HttpRequest, repo: Repo, *, tab: str, rev: str | None = None, **extra) -> dict:
    """What every repository page shows in its header (like state, write rights, tabs with the
    number of open discussions); ``extra`` may carry values a view has already read."""
    context = {"repo": repo, "tab": tab, "rev": rev or repo.default_branch, **extra}
    if "liked" not in context:
        context["liked"] = repo_liked(user=request.user, repo=repo)
    if "can_write" not in context:
        context["can_write"] = repo_can_write(user=request.user, repo=repo)
    if "community_open" not in context:
        context["community_open"] = community_open_count(repo=repo)
    # Logged-in readers may propose changes (uploads and edits become pull requests).
    context["can_contribute"] = request.user.is_authenticated
    return context


def _is_branch(revision: Revision) -> bool:
    return bool(revision.ref) and (revision.ref.startswith("refs/heads/") or revision.ref.startswith("refs/pr/"))


def _crumbs(path: str) -> list[tuple[str, str]]:
    """``[(segment, path up to it), …]`` for breadcrumbs."""
    parts = path.split("/") if path else []
    return [(part, "/".join(parts[: index + 1])) for index, part in enumerate(parts)]


# ------------------------------------------------------------------------------ the card page


@require_GET
@page_view
def repo_page(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    repo = _repo(request, type_prefix, namespace, name)
    if (repo.namespace.name, repo.name) != (namespace, name):
        return redirect(repo.web_path)
    if repo.type == RepoType.TUTORIAL:
        return _tutorial(request, repo, README)
    revision = revision_resolve(repo=repo, revision=None)
    overview = repo_overview(repo=repo, revision=revision)
    readme = None
    if overview.card is not None:
        rendered = markdown_render_cached(
            overview.card.body, links=_links(repo, repo.default_branch, README), content_id=overview.readme.sha256
        )
        readme = {"html": SafeString(rendered.html), "has_math": rendered.has_math, "has_mermaid": rendered.has_mermaid}
    card = overview.card
    pipeline_tag = (card.pipeline_tag or "") if card else ""
    library_name = (card.library_name or "") if card else ""
    context = _context(
        request, repo, tab="card",
        overview=overview,
        readme=readme,
        head=revision.commit,
        parameters=safetensors_parameter_total(files=overview.safetensors_files[:MAX_SAFETENSORS_FILES]),
        snippets=usage_snippets(
            repo=repo, endpoint=request.build_absolute_uri("/").rstrip("/"),
            pipeline_tag=pipeline_tag, library_name=library_name,
        ),
    )  # fmt: skip
    return render(request, "registry/repo.html", context)


def _tutorial(request: HttpRequest, repo: Repo, path: str) -> HttpResponse:
    """A tutorial page read as an article: table of contents, the page, links to the others."""
    revision = revision_resolve(repo=repo, revision=None)
    tree = revision.commit.tree_oid
    pages = tutorial_pages(repo=repo, tree_oid=tree)
    file = tutorial_page_file(tree_oid=tree, path=path)
    if file is None and path != README:
        raise EntryNotFound(f"{path} is not a page of this tutorial.")
    readme = tutorial_page_file(tree_oid=tree, path=README)
    card = card_of(file=readme, repo_type=repo.type) if readme is not None else None
    article = None
    if file is not None:
        text = card.body if path == README and card is not None else markdown_file_text(file=file)
        if text is not None and path != README:
            text = card_parse(text, repo_type=repo.type).body
        if text is not None:
            # Links between pages stay in the article view; other files open in the file viewer.
            folder = path.rsplit("/", 1)[0] if "/" in path else ""
            links = LinkBase(
                page_prefix=f"{repo.web_path}/page/",
                file_prefix=_url(repo, "resolve", repo.default_branch) + "/",
                folder=folder,
            )
            rendered = markdown_render_cached(text, links=links, content_id=file.sha256)
            article = {
                "html": SafeString(rendered.html),
                "toc": [heading for heading in rendered.headings if 2 <= heading.level <= 3],
                "has_math": rendered.has_math,
                "has_mermaid": rendered.has_mermaid,
            }
    index = next((i for i, page in enumerate(pages) if page.path == path), None)
    context = _context(
        request, repo, tab="card",
        card=card,
        pages=pages,
        page=pages[index] if index is not None else None,
        previous_page=pages[index - 1] if index else None,
        next_page=pages[index + 1] if index is not None and index + 1 < len(pages) else None,
        article=article,
        head=revision.commit,
    )  # fmt: skip
    return render(request, "registry/tutorial.html", context)


@require_GET
@page_view
def tutorial_page(request: HttpRequest, namespace: str, name: str, path: str, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    if repo.type != RepoType.TUTORIAL:
        raise Http404("Only tutorials have pages.")
    if path == README:
        return redirect(repo.web_path)
    if not path.lower().endswith(".md"):
        return redirect(_url(repo, "blob", repo.default_branch, path))
    return _tutorial(request, repo, path)


# --------------------------------------------------------------------------------------- files


def _files_revision(request: HttpRequest, repo: Repo, rest: str) -> tuple[str, str, Revision]:
    check_can_read_files(user=request.user, repo=repo)
    rev, path = revision_path_split(repo=repo, rest=rest)
    return rev, path.strip("/"), revision_resolve(repo=repo, revision=rev)


@require_GET
@page_view
def tree(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    rev, path, revision = _files_revision(request, repo, rest)
    info = tree_lookup(revision.commit.tree_oid, path)
    if isinstance(info, FileInfo):
        return redirect(_url(repo, "blob", rev, path))
    if info is None:
        raise EntryNotFound(f"No folder '{path}' at {rev}.")
    entries = sorted(
        tree_list(revision.commit.tree_oid, path),
        key=lambda entry: (isinstance(entry, FileInfo), entry.path.rsplit("/", 1)[-1].lower()),
    )
    context = _context(
        request, repo, tab="files", rev=rev,
        path=path,
        crumbs=_crumbs(path),
        entries=[{"info": entry, "name": entry.path.rsplit("/", 1)[-1], "is_file": isinstance(entry, FileInfo)}
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
    return {"kind": "text", "lines": highlight_lines(text, filename=filename, language=language)}


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
    view = _file_view(request, repo, rev, info)
    context = _context(
        request, repo, tab="files", rev=rev,
        path=path, crumbs=_crumbs(path), file=info, view=view, revision=revision,
        refs=repo_ref_choices(repo=repo), is_branch=_is_branch(revision),
        editable=view["kind"] in {"text", "markdown"} and info.size <= MAX_EDIT_BYTES,
    )  # fmt: skip
    return render(request, "registry/blob.html", context)


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


# ------------------------------------------------------------------------------------- history


@require_GET
@page_view
def commits(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    rev = rest.strip("/")
    revision = revision_resolve(repo=repo, revision=rev)
    try:
        page = max(1, int(request.GET.get("p") or 1))
    except ValueError:
        raise ValidationError("The page number must be a whole number.") from None
    history, more = commit_history(
        repo=repo, head=revision.commit, offset=(page - 1) * COMMITS_PAGE_SIZE, limit=COMMITS_PAGE_SIZE
    )
    if not history and page > 1:
        raise RevisionNotFound(f"{rev} has no page {page} of history.")
    context = _context(
        request, repo, tab="commits", rev=rev,
        commits=history, page=page, has_more=more, refs=repo_ref_choices(repo=repo), revision=revision,
    )  # fmt: skip
    return render(request, "registry/commits.html", context)


@require_GET
@page_view
def commit(request: HttpRequest, namespace: str, name: str, oid: str, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    oid = oid.lower()
    commit = commit_get(repo=repo, oid=oid) if len(oid) == 40 else revision_resolve(repo=repo, revision=oid).commit
    parent = commit_get(repo=repo, oid=commit.parents[0]) if commit.parents else None
    changes = commit_changes(commit=commit, parent=parent)
    diffs = [file_diff(change=change) for change in changes[:MAX_DIFFED_FILES]]
    body = commit.message.split("\n", 1)[1].strip() if "\n" in commit.message else ""
    context = _context(
        request, repo, tab="commits", rev=commit.oid,
        commit=commit, parent=parent, body=body, changes=changes, diffs=diffs,
        undiffed=changes[MAX_DIFFED_FILES:],
        additions=sum(diff.additions for diff in diffs), deletions=sum(diff.deletions for diff in diffs),
    )  # fmt: skip
    return render(request, "registry/commit.html", context)


# -------------------------------------------------------------------------------- writing


def _branch_revision(repo: Repo, rev: str) -> Revision:
    revision = revision_resolve(repo=repo, revision=rev)
    if not _is_branch(revision):
        raise ValidationError(f"'{rev}' is not a branch: changes are committed to branches.")
    return revision


@dataclass(frozen=True)
class _Destination:
    """Where a change made in the browser goes: onto a branch (people with write access), into a
    new pull request against it (anyone logged in), or onto an existing pull request (``refs/pr/N``:
    its author and writers)."""

    revision: Revision
    pull_request: Discussion | None
    can_commit: bool  # may commit to the branch itself

    @property
    def branch(self) -> str:
        return self.revision.ref.removeprefix("refs/heads/")


def _destination(request: HttpRequest, repo: Repo, rev: str) -> _Destination:
    if not request.user.is_authenticated:
        raise Unauthenticated(f"Log in to change {repo.repo_id}.")
    revision = _branch_revision(repo, rev)
    if revision.ref.startswith("refs/pr/"):
        pull_request = discussion_get(repo=repo, num=int(revision.ref.rsplit("/", 1)[1]))
        check_can_push_to_pull_request(discussion=pull_request, user=request.user)
        return _Destination(revision=revision, pull_request=pull_request, can_commit=False)
    return _Destination(revision=revision, pull_request=None, can_commit=can_moderate(user=request.user, repo=repo))


@require_http_methods(["GET", "POST"])
@page_view
def edit(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    """Edit a text file (``README.md`` above all) in the browser, preview markdown, then commit it,
    open a pull request with it, or add it to the pull request being edited."""
    repo = _repo(request, type_prefix, namespace, name)
    rev, path = revision_path_split(repo=repo, rest=rest)
    destination = _destination(request, repo, rev)
    revision = destination.revision
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
                if destination.pull_request is not None:
                    pull_request_commit(discussion=destination.pull_request, user=request.user, **change)
                    return redirect(f"{repo.web_path}/discussions/{destination.pull_request.num}/files")
                if values["target"] == "pr" or not destination.can_commit:
                    proposed = pull_request_propose(repo=repo, user=request.user, branch=destination.branch, **change)
                    return redirect(f"{repo.web_path}/discussions/{proposed.num}")
                commit_create(repo=repo, user=request.user, ref=revision.ref, **change)
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
        revision=destination.revision,
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
            body = json.loads(request.body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValidationError("The body must be a JSON object with oid and size.") from None
        if not isinstance(body, dict):
            raise ValidationError("The body must be a JSON object with oid and size.")
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
    liked = request.POST.get("action") != "unlike"
    if liked:
        like_add(user=request.user, repo=repo)
    else:
        like_remove(user=request.user, repo=repo)
    likes = Repo.objects.values_list("likes", flat=True).get(pk=repo.pk)
    if wants_json:
        return JsonResponse({"liked": liked, "likes": likes})
    return redirect(repo.web_path)
