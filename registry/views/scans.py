"""The owner's release of a quarantined file and a writer's request to convert checkpoints, from the
file and repository pages (the REST API's ``quarantine/release`` and ``conversions`` do the same)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from frontend.pages import page_view
from registry.access import Permission
from registry.selectors.revisions import revision_path_split
from registry.services.conversions import conversion_request
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


@require_POST
@page_view
def convert(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """Queue a conversion of the default branch's checkpoints to safetensors (writers)."""
    repo = _repo(request, type_prefix, namespace, name, need=Permission.WRITE)
    conversion = conversion_request(repo=repo, user=request.user, branch=repo.default_branch)
    conversion.refresh_from_db()
    if conversion.pull_request_num:
        messages.success(request, f"Converted: pull request #{conversion.pull_request_num} adds the safetensors files.")
    elif conversion.error:
        messages.error(request, f"The conversion failed: {conversion.error}")
    else:
        messages.success(request, "The conversion is queued: a pull request will carry the safetensors files.")
    return redirect(repo.web_path)
