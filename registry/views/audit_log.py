"""The audit log of a repository, in its settings (``/{repo}/settings/audit-log``): its admins and
site staff read it, filtered by action and actor, a page at a time."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from frontend.pages import page_view
from hub.choices import AuditAction
from hub.selectors import AUDIT_PAGE_SIZE, AuditFilters
from registry.choices import RepoType
from registry.selectors.audit import repo_audit_log
from registry.views.common import _context


@require_safe
@page_view
def audit_log_page(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    filters = AuditFilters.from_query(request.GET)
    repo_type = RepoType(type_prefix[:-1]) if type_prefix else RepoType.MODEL
    repo, events = repo_audit_log(
        user=request.user, repo_type=repo_type, namespace=namespace, name=name, filters=filters
    )
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page") or 1)
    context = _context(
        request, repo, tab="audit", can_admin=True, page=page, filters=filters, actions=AuditAction.choices
    )
    return render(request, "registry/audit_log.html", context)
