"""Pages of leaderboards: the list, a board (ranks with intervals, filters, chart, queue, exports),
comparing two entries item by item, and the forms to create a board and to submit, flag and re-run."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.html import json_script
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import HubError
from evals.leaderboards.apis import EntryOutputSerializer, LeaderboardOutputSerializer, compare_entry, entry_filters
from evals.leaderboards.forms import LeaderboardForm, SubmitForm
from evals.leaderboards.selectors import (
    QUEUE_LENGTH,
    board_entries,
    board_entries_in_order,
    board_entry_keys,
    board_queue_rows,
    board_visitor,
    entries_disagreements,
    entry_get,
    leaderboard_get,
    leaderboard_list,
    paired_deltas,
)
from evals.leaderboards.services.boards import column_key, leaderboard_create
from evals.leaderboards.services.submissions import entry_submit_or_refuse
from evals.leaderboards.services.trust import entry_flag, entry_rerun
from evals.leaderboards.templatetags.leaderboards import half_width, score
from frontend.pages import page_view
from hub.selectors import namespace_get, user_memberships_list

ENTRIES_PAGE_SIZE = 100
CACHE_SECONDS = 3600  # a change moves the board to a new version at once; this bounds what old versions keep
# The queue the page shares with every visitor holds twice what it shows, so that models a
# visitor may not see still leave a full queue (with fewer it is read again for that visitor).
QUEUE_CACHED = 2 * QUEUE_LENGTH


@require_GET
@page_view
def leaderboard_list_page(request: HttpRequest) -> HttpResponse:
    return render(request, "leaderboards/list.html", {"boards": leaderboard_list()})


def _columns(board) -> list[dict]:
    """The board's columns with their keys and labels (the suite aggregate says so)."""
    return [
        {
            **c,
            "key": column_key(c),
            "label": f"{c['metric']} · suite" if c["task"] == "*" else f"{c['task']} {c['metric']}",
        }
        for c in board.columns
    ]


def _cell(entry, cell: dict | None, query: str) -> dict | None:
    """A score as the table shows it: the value, ± half its 95 % interval, the normalised score,
    and the link to the items behind it (formatted here: the table has thousands of cells)."""
    if cell is None:
        return None
    out = {
        "href": f"{get_script_prefix()}runs/{entry.run_id}/samples{query}",
        "value": score(cell["value"]),
        "ci": "",
        "normalized": "",
    }
    if cell.get("ci95"):
        out["ci"] = score(half_width(cell))
    if cell.get("normalized") is not None:
        out["normalized"] = score(cell["normalized"])
    return out


def _snapshot(*, board, filters) -> tuple[list[tuple[int, int]], list[dict]]:
    """What every visitor's board page starts from, the same for all until the board changes, so
    kept in the cache under its ``version``: the keys of the entries the filters keep, in order,
    and the latest submissions, of every model (the page drops those a visitor may not see)."""
    prefix = f"leaderboards:{board.pk}:{board.version}"
    keys_key = f"{prefix}:keys:{hashlib.sha256(repr(filters).encode()).hexdigest()}"
    queue_key = f"{prefix}:queue"
    found = cache.get_many([keys_key, queue_key])
    if keys_key not in found:
        found[keys_key] = board_entry_keys(board=board, filters=filters)
        cache.set(keys_key, found[keys_key], CACHE_SECONDS)
    if queue_key not in found:
        found[queue_key] = board_queue_rows(board=board, limit=QUEUE_CACHED)
        cache.set(queue_key, found[queue_key], CACHE_SECONDS)
    return found[keys_key], found[queue_key]


def _visible_queue(*, board, user, rows: list[dict], hidden: frozenset[int]) -> list[dict]:
    if not hidden:
        return rows[:QUEUE_LENGTH]
    shown = [row for row in rows if row["model_repo_id"] not in hidden][:QUEUE_LENGTH]
    if len(shown) < QUEUE_LENGTH and len(rows) == QUEUE_CACHED:  # more than the cache holds are hidden
        return board_queue_rows(board=board, limit=QUEUE_LENGTH, user=user)
    return shown


def _table(*, board, columns: list[dict], keys: list[tuple[int, int]], ratings: dict) -> tuple[str, str]:
    """One page of the board's table as HTML, and its chart's points as a JSON script element.
    Rendering a hundred rows of a dozen score cells is most of what the page costs, so both stay
    in the cache under the board's ``version`` (any change to its entries moves it on:
    ``services.boards.board_touch``) and the digest of everything else they depend on: the page's
    entries in order (visibility, filters, sorting and paging all show there), their arena
    ratings, the columns and the path prefix of the links."""
    shown_ratings = sorted((repo, r.rating, r.lower, r.upper) for repo, r in ratings.items())
    digest = hashlib.sha256(repr((get_script_prefix(), board.columns, keys, shown_ratings)).encode()).hexdigest()
    cache_key = f"leaderboards:{board.pk}:{board.version}:rows:{digest}"
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    primary = columns[0]["key"]
    entries = board_entries_in_order(board=board, pks=[pk for pk, _ in keys])
    shared = Counter(entry.rank for entry in entries)
    evidence = ["" if c["task"] == "*" else "?" + urlencode({"task": c["task"]}) for c in columns]
    rows = [
        {
            "entry": entry,
            "cells": [
                _cell(entry, entry.scores.get(c["key"]), query) for c, query in zip(columns, evidence, strict=True)
            ],
            "arena": ratings.get(entry.model_repo_id),
            "tied": entry.rank is not None and shared[entry.rank] > 1,
        }
        for entry in entries
    ]
    table_rows = get_template("leaderboards/_board_rows.html", using="jinja2").render(
        {"rows": rows, "has_arena": bool(ratings)}
    )
    points = [
        {"model": e.model_repo_name, "parameters": e.parameters, **(e.scores.get(primary) or {})}
        for e in entries
        if e.parameters and e.scores.get(primary)
    ]
    chart = json_script({"metric": columns[0]["label"], "points": points}, "board-chart-data")
    cache.set(cache_key, (table_rows, chart), CACHE_SECONDS)
    return table_rows, chart


@require_GET
@page_view
def leaderboard_page(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    """A board: ranked entries with score and rank intervals, raw and normalised, filters, a chart
    of score against size, the submission queue."""
    board = leaderboard_get(namespace=namespace, name=name)
    filters = entry_filters(request.GET)
    keys, queue = _snapshot(board=board, filters=filters)
    visitor = board_visitor(board=board, user=request.user)
    if visitor.hidden:
        keys = [key for key in keys if key[1] not in visitor.hidden]
    page = Paginator(keys, ENTRIES_PAGE_SIZE).get_page(request.GET.get("page"))
    columns = _columns(board)
    keys = list(page.object_list)
    ratings = {repo: visitor.ratings[repo] for _, repo in keys if repo in visitor.ratings}
    table_rows, chart = _table(board=board, columns=columns, keys=keys, ratings=ratings)
    # The queue says how long ago each submission was made: rendered each time, with Jinja2 like
    # the table (several times faster than Django's templates for 50 rows).
    queue = {
        "queue": _visible_queue(board=board, user=request.user, rows=queue, hidden=visitor.hidden),
        "prefix": get_script_prefix().rstrip("/"),
    }
    context = {
        "board": board,
        "columns": columns,
        "table_rows": mark_safe(table_rows),
        "page": page,
        "filters": filters,
        "queue_rows": mark_safe(get_template("leaderboards/_board_queue.html", using="jinja2").render(queue)),
        "chart": chart,
        "submit_form": SubmitForm() if request.user.is_authenticated else None,
        "has_arena": bool(ratings),
    }
    return render(request, "leaderboards/board.html", context)


@require_GET
@page_view
def leaderboard_export(request: HttpRequest, namespace: str, name: str, fmt: str) -> HttpResponse:
    """The board's entries as CSV or JSON (what the page shows, every page at once). Written once
    per board version, filters and set of models hidden from the visitor, then served from the
    cache until the board changes."""
    board = leaderboard_get(namespace=namespace, name=name)
    filters = entry_filters(request.GET)
    hidden = board_visitor(board=board, user=request.user).hidden
    board_data = LeaderboardOutputSerializer(board).data
    digest = hashlib.sha256(repr((fmt, filters, sorted(hidden), board_data)).encode()).hexdigest()
    cache_key = f"leaderboards:{board.pk}:{board.version}:export:{digest}"
    body = cache.get(cache_key)
    if body is None:
        entries = list(board_entries(board=board, user=request.user, filters=filters))
        body = _json(board_data, entries) if fmt == "json" else _csv(board, entries)
        cache.set(cache_key, body, CACHE_SECONDS)
    if fmt == "json":
        return HttpResponse(body, content_type="application/json")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{board.namespace.name}-{board.name}.csv"'
    return response


def _json(board_data: dict, entries: list) -> bytes:
    body = {"board": board_data, "entries": EntryOutputSerializer(entries, many=True).data}
    return JsonResponse(body, json_dumps_params={"indent": 1}).content


def _csv(board, entries: list) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = _columns(board)
    head = ["rank", "rank_low", "rank_high", "model", "commit", "parameters", "license", "architecture", "base_model"]
    for c in columns:
        head += [c["key"], f"{c['key']} ci95 low", f"{c['key']} ci95 high", f"{c['key']} normalized"]
    writer.writerow(head)
    for e in entries:
        row = [
            e.rank,
            e.rank_low,
            e.rank_high,
            e.model_repo_name,
            e.model_commit,
            e.parameters,
            e.license,
            e.architecture,
            e.base_model,
        ]
        for c in columns:
            cell = e.scores.get(c["key"]) or {}
            ci = cell.get("ci95") or [None, None]
            row += [cell.get("value"), ci[0], ci[1], cell.get("normalized")]
        writer.writerow(row)
    return buffer.getvalue().encode()


@require_GET
@page_view
def compare_page(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    """Two entries item by item: deltas with paired intervals, and where their answers differ."""
    board = leaderboard_get(namespace=namespace, name=name)
    picks = request.GET.getlist("pick")
    if not request.GET.get("a") and len(picks) == 2:  # the board's form, sent without JavaScript
        return redirect(f"{board.web_path}/compare?a={picks[0]}&b={picks[1]}")
    a, b = compare_entry(board, request, "a"), compare_entry(board, request, "b")
    task = request.GET.get("task", "")
    context = {
        "board": board,
        "a": a,
        "b": b,
        "task": task,
        "deltas": paired_deltas(run_a_id=a.run_id, run_b_id=b.run_id),
        "disagreements": entries_disagreements(a=a, b=b, task=task),
    }
    return render(request, "leaderboards/compare.html", context)


@login_required
@require_POST
@page_view
def submit_any_page(request: HttpRequest) -> HttpResponse:
    """Submit from a model's page, which names the board in the form."""
    namespace, _, name = request.POST.get("board", "").partition("/")
    return _submit(request, leaderboard_get(namespace=namespace, name=name))


@login_required
@require_POST
@page_view
def submit_page(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    return _submit(request, leaderboard_get(namespace=namespace, name=name))


def _submit(request: HttpRequest, board) -> HttpResponse:
    form = SubmitForm(request.POST)
    if form.is_valid():
        try:
            entry = entry_submit_or_refuse(
                board=board,
                user=request.user,
                model=form.cleaned_data["model"].strip(),
                revision=form.cleaned_data["revision"].strip() or None,
                site_url=request.build_absolute_uri("/"),
            )
        except HubError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{entry.model_repo_name} is queued for evaluation on {board.title}.")
    else:
        messages.error(request, "Name a model as namespace/name.")
    return redirect(f"{board.web_path}#queue")


@login_required
@require_POST
@page_view
def flag_page(request: HttpRequest, namespace: str, name: str, entry_id: int) -> HttpResponse:
    board = leaderboard_get(namespace=namespace, name=name)
    entry = entry_get(board=board, entry_id=entry_id, user=request.user)
    try:
        flag = entry_flag(entry=entry, user=request.user, reason=request.POST.get("reason", ""))
    except HubError as error:
        messages.error(request, error.message)
        return redirect(board.web_path)
    messages.success(request, "Thank you; the flag is discussed in public on the model's Community tab.")
    return redirect(f"{entry.model_repo.web_path}/discussions/{flag.discussion_num}")


@login_required
@require_POST
@page_view
def rerun_page(request: HttpRequest, namespace: str, name: str, entry_id: int) -> HttpResponse:
    board = leaderboard_get(namespace=namespace, name=name)
    entry = entry_get(board=board, entry_id=entry_id, user=request.user)
    rerun = entry_rerun(entry=entry, user=request.user, site_url=request.build_absolute_uri("/"))
    messages.success(request, f"Entry {entry.pk} is being evaluated again (run {rerun.run_id}).")
    return redirect(f"{board.web_path}#queue")


@login_required
@require_http_methods(["GET", "POST"])
@page_view
def leaderboard_new(request: HttpRequest) -> HttpResponse:
    owners = [m.organization.name for m in user_memberships_list(user=request.user) if m.role == "admin"]
    form = LeaderboardForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            board = leaderboard_create(
                user=request.user,
                namespace=namespace_get(name=values["owner"]),
                name=values["name"].strip(),
                title=values["title"].strip(),
                description=values["description"],
                suite=values["suite"].strip(),
                suite_revision=values["suite_revision"].strip() or None,
                suite_file=values["suite_file"].strip() or None,
                columns=[c.strip() for c in values["columns"].split(",") if c.strip()] or None,
                policy=values["policy"],
                max_parameters=values["max_parameters"],
                limit=values["limit"],
            )
        except HubError as error:
            for field, field_messages in (error.fields or {None: [error.message]}).items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return redirect(board.web_path)
    return render(request, "leaderboards/new.html", {"form": form}, status=400 if form.errors else 200)
