"""Access requests to gated repositories: the lists an admin reviews, one person's request, and
the form a repository's card declares."""

from __future__ import annotations

from django.db.models import QuerySet

from common.errors import NotFound
from common.inputs import text_int
from registry.cards.gate import GateForm, gate_form
from registry.choices import AccessRequestStatus
from registry.models import AccessRequest, Repo


def repo_gate_form(*, repo: Repo) -> GateForm:
    """The questions ``repo``'s card asks of people who request access."""
    return gate_form(repo.card_data or {})


def access_requests_list(*, repo: Repo, status: AccessRequestStatus | str) -> QuerySet[AccessRequest]:
    """The requests of ``repo`` with ``status``, oldest first (the order admins work them in)."""
    return (
        AccessRequest.objects.filter(repo=repo, status=AccessRequestStatus(status))
        .select_related("user", "decided_by")
        .order_by("created_at", "id")
    )


def access_request_of(*, repo: Repo, user) -> AccessRequest | None:
    """``user``'s request for ``repo`` (None for anonymous visitors and people who never asked)."""
    if user is None or not user.is_authenticated:
        return None
    return AccessRequest.objects.filter(repo=repo, user=user).first()


def access_request_find(*, repo: Repo, username: str | None = None, request_id: str | None = None) -> AccessRequest:
    """The request of ``repo`` made by ``username`` or with id ``request_id``; ``NotFound`` otherwise."""
    requests = AccessRequest.objects.filter(repo=repo).select_related("user")
    if request_id is not None:
        found = requests.filter(pk=text_int(request_id, "requestId", minimum=1)).first()
    else:
        found = requests.filter(user__username__iexact=username).first()
    if found is None:
        raise NotFound("No such access request for this repository.")
    return found
