"""The history of a repository: its commits, page by page, and one commit with its diffs."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from common.errors import ValidationError
from community.rules import checks_by_commit
from frontend.pages import page_view
from registry.access import check_can_read_files
from registry.errors import RevisionNotFound
from registry.selectors.commits import commit_history
from registry.selectors.diffs import commit_changes, file_diff
from registry.selectors.pages import repo_ref_choices
from registry.selectors.revisions import commit_get, revision_resolve
from registry.selectors.scans import tree_scan_status
from registry.views.common import COMMITS_PAGE_SIZE, MAX_DIFFED_FILES, _context, _repo


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
    checks = checks_by_commit(repo=repo, commit_oids=[commit.oid for commit in history])
    context = _context(
        request, repo, tab="commits", rev=rev, commits=[(commit, checks.get(commit.oid, [])) for commit in history],
        page=page, has_more=more, refs=repo_ref_choices(repo=repo), revision=revision,
    )  # fmt: skip
    return render(request, "registry/commits.html", context)


@require_GET
@page_view
def commit(request: HttpRequest, namespace: str, name: str, oid: str, type_prefix: str | None = None):
    repo = _repo(request, type_prefix, namespace, name)
    check_can_read_files(user=request.user, repo=repo)  # the diffs are the files' contents
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
        security=tree_scan_status(repo=repo, tree_oid=commit.tree_oid),
    )  # fmt: skip
    return render(request, "registry/commit.html", context)
