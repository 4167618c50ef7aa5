"""Pages: a model's Playground tab, and the arena (battle page, board, vote log download)."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix
from django.views.decorators.http import require_GET, require_POST

from common.errors import HubError
from frontend.pages import page_view
from registry.access import Permission, check_can_read_files, repo_role
from registry.views.common import _context, _repo
from training_runner.inference.selectors import (
    VOTE_LOG_COLUMNS,
    arena_board,
    arena_models,
    pipeline_of,
    playground_enabled,
    vote_log,
)
from training_runner.inference.services.playgrounds import playground_set


@require_GET
@page_view
def playground(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    repo = _repo(request, None, namespace, name)
    pipeline = pipeline_of(repo)
    enabled = playground_enabled(repo=repo)
    role = repo_role(user=request.user, repo=repo)
    readable = True
    try:
        check_can_read_files(user=request.user, repo=repo)
    except HubError:
        readable = False
    frame = None
    if pipeline is not None and enabled and readable:
        frame = f"/playground/{pipeline.value}/{repo.repo_id}/"
    context = _context(
        request, repo, tab="playground", pipeline=pipeline, enabled=enabled, readable=readable, frame=frame,
        can_admin=role is not None and role >= Permission.ADMIN,
    )  # fmt: skip
    return render(request, "inference/playground.html", context)


@require_POST
@page_view
def playground_toggle(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "on"
    playground_set(user=request.user, namespace=namespace, name=name, enabled=enabled)
    messages.success(request, "The playground is on." if enabled else "The playground is off.")
    return redirect(f"{get_script_prefix()}{namespace}/{name}/playground")


@require_GET
@page_view
def arena(request: HttpRequest) -> HttpResponse:
    return render(request, "inference/arena.html", {"contestants": len(arena_models())})


@require_GET
@page_view
def arena_board_page(request: HttpRequest) -> HttpResponse:
    return render(request, "inference/arena_board.html", {"rows": arena_board()})


@require_GET
def arena_votes_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The anonymised vote log as CSV (no prompts, voters as pseudonyms)."""

    def rows():
        for row in (VOTE_LOG_COLUMNS, *vote_log()):
            buffer = io.StringIO()
            csv.writer(buffer).writerow(row)
            yield buffer.getvalue()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="arena-votes.csv"'
    return response
