"""Access requests to gated repositories: the lists an admin reviews, one person's request, and
the form a repository's card declares."""

from __future__ import annotations

from django.db.models import QuerySet

from common.errors import HubError, NotFound
from common.inputs import text_int
from registry.cards.gate import GateForm, gate_form
from registry.choices import AccessRequestStatus
from registry.models import AccessRequest, Repo
from registry.selectors.pages import README, card_of
from registry.selectors.revisions import revision_resolve
from registry.trees import FileInfo, tree_lookup


def repo_gate_form(*, repo: Repo) -> GateForm:
    """The questions ``repo``'s card asks of people who request access, in the card's order: read
    from the README of the default branch (``Repo.card_data`` is stored as JSON, whose key order
    PostgreSQL does not keep, and ``extra_gated_fields`` is an ordered mapping)."""
    try:
        commit = revision_resolve(repo=repo, revision=repo.default_branch).commit
    except HubError:
        return gate_form({})
    readme = tree_lookup(commit.tree_oid, README)
    card = card_of(file=readme, repo_type=repo.type) if isinstance(readme, FileInfo) else None
    return gate_form(card.metadata if card is not None else {})


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
