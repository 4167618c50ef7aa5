"""Gated access on the pages: the access form a repository's card declares (``/{repo}/ask-access``)
and the review of requests in the repository's settings (``/{repo}/settings/access-requests``).

The form is built from the card (``registry.cards.gate``); the service checks the answers again,
so the page and any other face accept exactly the same requests.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods

from common.errors import Unauthenticated, ValidationError
from frontend.markdown import markdown_render
from frontend.pages import page_view
from hub.selectors import user_get_by_name
from registry.access import Permission, repo_role
from registry.cards.gate import COUNTRIES, MAX_ANSWER, GateForm
from registry.choices import AccessRequestStatus
from registry.models import Repo
from registry.selectors.access_requests import (
    access_request_find,
    access_request_of,
    access_requests_list,
    repo_gate_form,
)
from registry.services.access_requests import (
    MAX_REASON,
    access_grant,
    access_request_create,
    access_request_decide,
    check_repo_gated,
)
from registry.views.common import _context, _repo

# Requests shown per list on the review page; older ones stay reachable through the HF API.
REVIEW_LIST_LIMIT = 200


def gate_django_form(gate: GateForm, data=None) -> forms.Form:
    """A Django form asking ``gate``'s questions (``field_0``, ``field_1``, … labelled as declared)."""
    fields: dict[str, forms.Field] = {}
    for index, question in enumerate(gate.fields):
        if question.kind == "checkbox":
            field: forms.Field = forms.BooleanField(label=question.label, required=True)
        elif question.kind == "select":
            field = forms.ChoiceField(label=question.label, choices=[("", "—"), *question.options])
        elif question.kind == "country":
            field = forms.ChoiceField(label=question.label, choices=[("", "—"), *((c, c) for c in COUNTRIES)])
        elif question.kind == "date_picker":
            field = forms.DateField(label=question.label, widget=forms.DateInput(attrs={"type": "date"}))
        else:
            field = forms.CharField(label=question.label, max_length=MAX_ANSWER)
        fields[f"field_{index}"] = field
    return type("GateDjangoForm", (forms.Form,), fields)(data)


def gate_context(request: HttpRequest, repo: Repo, *, can_admin: bool) -> dict | None:
    """What the repository page shows of the gate: the prompt, the visitor's request, the form."""
    if not repo.gated:
        return None
    gate = repo_gate_form(repo=repo)
    return {
        "member": can_admin or repo_role(user=request.user, repo=repo) is not None,
        "prompt": SafeString(markdown_render(gate.prompt).html) if gate.prompt else "",
        "button": gate.button,
        "request": access_request_of(repo=repo, user=request.user),
        "form": gate_django_form(gate),
        "can_admin": can_admin,
        "pending": access_requests_list(repo=repo, status=AccessRequestStatus.PENDING).count() if can_admin else 0,
    }


@require_http_methods(["GET", "POST"])
@page_view
def ask_access(request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None) -> HttpResponse:
    """The access form of a gated repository; a valid answer makes a request (accepted at once
    under ``auto`` gating) and returns to the repository page, which shows its status."""
    repo = _repo(request, type_prefix, namespace, name)
    check_repo_gated(repo=repo)
    if not request.user.is_authenticated:
        raise Unauthenticated("Log in to ask for access.")
    gate = repo_gate_form(repo=repo)
    form = gate_django_form(gate, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        answers = {}
        for index, question in enumerate(gate.fields):
            value = form.cleaned_data[f"field_{index}"]
            answers[question.label] = value if isinstance(value, bool | str) else value.isoformat()
        try:
            made = access_request_create(repo=repo, user=request.user, answers=answers)
        except ValidationError as error:
            form.add_error(None, error.message)
        else:
            if made.status == AccessRequestStatus.ACCEPTED:
                messages.success(request, f"You have access to {repo.repo_id}.")
            else:
                messages.success(request, f"Your request was sent to the admins of {repo.repo_id}.")
            return redirect(repo.web_path)
    context = _context(
        request,
        repo,
        tab="card",
        gate=gate_context(request, repo, can_admin=False),
        form=form,
    )
    return render(request, "registry/ask_access.html", context)


@require_http_methods(["GET", "POST"])
@page_view
def access_requests_page(
    request: HttpRequest, namespace: str, name: str, type_prefix: str | None = None
) -> HttpResponse:
    """Admins review the pending, accepted and rejected requests, decide (a reason with a
    rejection), move a decision back to pending, and grant access to someone by name."""
    repo = _repo(request, type_prefix, namespace, name, need=Permission.ADMIN)
    check_repo_gated(repo=repo)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "grant":
            person = user_get_by_name(name=request.POST.get("user", "")[:100])
            access_grant(repo=repo, user=person, by=request.user)
            messages.success(request, f"{person.username} now has access.")
        elif action in AccessRequestStatus.values:
            found = access_request_find(repo=repo, request_id=request.POST.get("request", ""))
            reason = request.POST.get("reason", "")[: MAX_REASON + 1] if action == "rejected" else ""
            access_request_decide(repo=repo, request=found, status=action, reason=reason, by=request.user)
            messages.success(request, f"The request of {found.user.username} is now {action}.")
        else:
            raise ValidationError("Unknown action.")
        return redirect(request.path)
    lists = [
        (status, list(access_requests_list(repo=repo, status=status)[:REVIEW_LIST_LIMIT]))
        for status in AccessRequestStatus
    ]
    context = _context(request, repo, tab="settings", lists=lists, max_reason=MAX_REASON)
    return render(request, "registry/access_requests.html", context)
