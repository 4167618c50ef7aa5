"""What the repository pages share: fetching the repository from the URL, page URLs and the
header context every page shows, and the size limits of what they display."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpRequest

from community.selectors import community_open_count
from frontend.markdown import LinkBase
from registry.access import Permission, access_repo
from registry.choices import RepoType
from registry.models import Repo
from registry.selectors.pages import repo_liked, repo_rights
from registry.selectors.revisions import Revision

COMMITS_PAGE_SIZE = 30
# Files larger than this are not shown inline on the file page (download them instead).
MAX_TEXT_VIEW_BYTES = 1024 * 1024
MAX_IMAGE_VIEW_BYTES = 20 * 1000 * 1000
# Text files show their first lines highlighted, then a link to the raw file: a page stays small
# and fast however long the file (a tokenizer.json runs to tens of thousands of lines).
MAX_VIEW_LINES = 500
MAX_VIEW_CHARS = 100_000
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
    if "can_write" not in context or "can_admin" not in context:  # admins see the settings tabs
        can_write, can_admin = repo_rights(user=request.user, repo=repo)
        context.setdefault("can_write", can_write)
        context.setdefault("can_admin", can_admin)
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
