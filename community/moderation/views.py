"""Moderation pages: the report form, the moderators' queue (``/moderation/``), the public log
(``/moderation/log``) and the owner's appeal. Thin: each form calls one service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import Conflict, RateLimited, Unauthenticated, ValidationError
from common.inputs import text_int
from common.throttling import client_ip
from community.moderation import services
from community.moderation.choices import ACTION_TARGETS, Reason, TargetKind
from community.moderation.models import MAX_TEXT
from community.moderation.selectors import (
    action_get,
    appeal_get,
    appealable_action,
    appeals_queue,
    check_moderator,
    moderation_log,
    public_label,
    public_link,
    report_get,
    reports_queue,
    target_resolve,
)
from frontend.pages import page_view
from hub.services.login_throttle import login_attempt_check, login_failure_record
from hub.services.suspensions import user_suspended_with_password

LOG_PAGE = 100  # entries per page of the public log
QUEUE_LIMIT = 200  # reports and appeals shown at once; older ones through the REST API


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=Reason.choices)
    text = forms.CharField(
        max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Details"
    )


class ActForm(forms.Form):
    action = forms.CharField(max_length=32)
    reason = forms.ChoiceField(choices=Reason.choices)
    note = forms.CharField(max_length=MAX_TEXT, required=False)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("uphold", "Uphold"), ("reverse", "Reverse")])
    note = forms.CharField(max_length=MAX_TEXT, required=False)


class AppealForm(forms.Form):
    text = forms.CharField(
        max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}), label="Why should it be reversed?"
    )


class SuspensionAppealForm(AppealForm):
    """A suspended account cannot log in, so its appeal proves who sends it with the password."""

    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, max_length=256)
    field_order = ["username", "password", "text"]


def _target_values(data) -> dict:
    """The target named by a query string or a form (strings; ids checked as numbers)."""
    numbers = {
        name: text_int(data[name], name, minimum=1) if data.get(name) else None for name in ("num", "comment_id")
    }
    values = {name: data.get(name, "")[:200] for name in ("kind", "repo_type", "repo_id", "username")}
    return values | {"repo_type": values["repo_type"] or "model"} | numbers


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@require_http_methods(["GET", "POST"])
@page_view
def report_page(request: HttpRequest) -> HttpResponse:
    """Report what the query names (``?kind=repo&repo_type=model&repo_id=alice/tiny``,
    ``?kind=user&username=bob``)."""
    if not request.user.is_authenticated:
        raise Unauthenticated("Log in to report.")
    values = _target_values(request.POST if request.method == "POST" else request.GET)
    target = target_resolve(user=request.user, **values)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        services.report_create(
            reporter=request.user, target=target, reason=form.cleaned_data["reason"], text=form.cleaned_data["text"]
        )
        messages.success(request, "Thank you: the moderators will review your report.")
        page = target.repo.web_path if target.repo is not None else f"{get_script_prefix()}{target.label}"
        return redirect(page)
    context = {"form": form, "target": target, "values": values}
    return render(request, "moderation/report.html", context, status=400 if form.errors else 200)


@require_GET
@page_view
def queue_page(request: HttpRequest) -> HttpResponse:
    """The moderators' queue: open reports with the actions that fit each, pending appeals."""
    check_moderator(user=request.user)
    reports = list(reports_queue()[:QUEUE_LIMIT])
    actions = {kind: [k for k, t in ACTION_TARGETS.items() if t == kind] for kind in TargetKind.values}
    rows = [{"report": report, "actions": actions[report.target_kind]} for report in reports]
    context = {"rows": rows, "appeals": list(appeals_queue()[:QUEUE_LIMIT]), "reasons": Reason.choices}
    return render(request, "moderation/queue.html", context)


@require_POST
@page_view
def report_act(request: HttpRequest, report_id: int) -> HttpResponse:
    """A moderator acts on a report's target, or dismisses the report (``action=dismiss``)."""
    check_moderator(user=request.user)
    report = report_get(report_id=report_id)
    form = ActForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an action and a reason.")
        return redirect("moderation-queue")
    data = form.cleaned_data
    if data["action"] == "dismiss":
        services.report_dismiss(moderator=request.user, report=report, reason=data["reason"], note=data["note"])
        messages.success(request, f"Report {report.pk} dismissed.")
    else:
        services.action_take(
            moderator=request.user, kind=data["action"], target=services.stored_target(of=report),
            reason=data["reason"], note=data["note"], report=report,
        )  # fmt: skip
        messages.success(request, f"Done: {data['action'].replace('_', ' ')} ({report.target_label}).")
    return redirect("moderation-queue")


@require_POST
@page_view
def appeal_decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    check_moderator(user=request.user)
    appeal = appeal_get(appeal_id=appeal_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose uphold or reverse.")
        return redirect("moderation-queue")
    services.appeal_decide(moderator=request.user, appeal=appeal, **form.cleaned_data)
    messages.success(request, f"Appeal {appeal.pk}: {form.cleaned_data['decision']}.")
    return redirect("moderation-queue")


@require_POST
@page_view
def appeal_create(request: HttpRequest, action_id: int) -> HttpResponse:
    """The affected owner's appeal, from the page of what the action affected."""
    if not request.user.is_authenticated:
        raise Unauthenticated("Log in to appeal.")
    action = action_get(action_id=action_id)
    form = AppealForm(request.POST)
    fallback = action.target_repo.web_path if action.target_repo is not None else "/moderation/log"
    if not form.is_valid():
        messages.error(request, "Say why the action should be reversed.")
        return _back(request, fallback)
    services.appeal_create(user=request.user, action=action, text=form.cleaned_data["text"])
    messages.success(request, "Your appeal was sent to the moderators.")
    return _back(request, fallback)


@require_http_methods(["GET", "POST"])
@page_view
def suspension_appeal(request: HttpRequest) -> HttpResponse:
    """The appeal of a suspended account, which cannot log in: the name and password are checked as
    by the log-in form (and count towards its lockout when wrong), then the appeal goes to the
    moderators like any other."""
    form = SuspensionAppealForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        username, ip = form.cleaned_data["username"], client_ip(request)
        try:
            login_attempt_check(username=username, ip=ip)
            user = user_suspended_with_password(username=username, password=form.cleaned_data["password"])
            if user is None:
                login_failure_record(username=username, ip=ip)
                raise ValidationError("No suspended account has this name and password.")
            action = appealable_action(user=user, target_kind=TargetKind.USER, target_id=user.pk)
            if action is None:
                raise Conflict(
                    "This suspension cannot be appealed here: it was already appealed, or it was not a "
                    "moderation action. The moderators will write to the account's email address."
                )
            services.appeal_create(user=user, action=action, text=form.cleaned_data["text"])
        except (RateLimited, ValidationError, Conflict) as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            return render(request, "moderation/suspension_appeal.html", {"sent": True})
    elif form.errors:
        status = 400
    return render(request, "moderation/suspension_appeal.html", {"form": form}, status=status)


@require_GET
@page_view
def log_page(request: HttpRequest) -> HttpResponse:
    """The public log: what kind of target, which (public ones only), when, why; no reporter,
    no note, no moderator."""
    try:
        page = max(1, int(request.GET.get("page", "1")[:6]))
    except ValueError:
        page = 1
    entries = list(moderation_log()[(page - 1) * LOG_PAGE : page * LOG_PAGE + 1])
    rows = [
        {"action": action, "label": public_label(action=action), "link": public_link(action=action)}
        for action in entries[:LOG_PAGE]
    ]
    context = {"rows": rows, "page": page, "has_next": len(entries) > LOG_PAGE}
    return render(request, "moderation/log.html", context)
