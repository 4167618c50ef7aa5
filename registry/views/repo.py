"""The card page of a repository, and the article pages of a tutorial."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from frontend.markdown import LinkBase, markdown_render_cached
from frontend.pages import page_view
from frontend.snippets import usage_snippets
from registry.cards import card_parse
from registry.choices import RepoType
from registry.errors import EntryNotFound
from registry.models import Repo
from registry.panels import REPO_SIDEBAR, panels
from registry.selectors.pages import (
    README,
    card_of,
    markdown_file_text,
    repo_overview,
    repo_rights,
    tutorial_page_file,
    tutorial_pages,
)
from registry.selectors.repos import repo_model_tree
from registry.selectors.revisions import revision_resolve
from registry.selectors.safetensors import safetensors_parameter_total
from registry.views.access_requests import gate_context
from registry.views.common import MAX_SAFETENSORS_FILES, _context, _links, _repo, _url


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
    can_write, can_admin = repo_rights(user=request.user, repo=repo)
    context = _context(
        request, repo, tab="card",
        can_write=can_write,
        can_admin=can_admin,
        overview=overview,
        readme=readme,
        head=revision.commit,
        parameters=safetensors_parameter_total(files=overview.safetensors_files[:MAX_SAFETENSORS_FILES]),
        panels=panels(REPO_SIDEBAR, request, repo),
        gate=gate_context(request, repo, can_admin=can_admin),
        model_tree=repo_model_tree(user=request.user, repo=repo, base_models=card.base_model if card else [])
        if repo.type == RepoType.MODEL
        else None,
        snippets=usage_snippets(
            repo=repo, endpoint=request.build_absolute_uri(get_script_prefix()).rstrip("/"),
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
