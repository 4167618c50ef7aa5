"""The owner's release of a quarantined file, from the file page (the REST API's
``quarantine/release`` does the same)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from frontend.pages import page_view
from registry.access import Permission
from registry.selectors.revisions import revision_path_split
from registry.services.scans import scan_release
from registry.views.common import _repo, _url


@require_POST
@page_view
def release_file(request: HttpRequest, namespace: str, name: str, rest: str, type_prefix: str | None = None):
    """Release a quarantined file after the page's warning (the form's ``confirm`` box)."""
    repo = _repo(request, type_prefix, namespace, name, need=Permission.ADMIN)
    rev, path = revision_path_split(repo=repo, rest=rest)
    scan_release(
        repo=repo,
        user=request.user,
        revision=rev,
        path=path.strip("/"),
        reason=request.POST.get("reason", "")[:2000],
        confirm=request.POST.get("confirm") == "true",
    )
    messages.success(request, f"{path} is released: it is served again, and the release is on record.")
    return redirect(_url(repo, "blob", rev, path.strip("/")))
