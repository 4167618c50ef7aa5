"""Access requests to gated repositories: ask, decide (accept, reject, back to pending), grant.

A gated repository (``Repo.gated`` ``auto`` or ``manual``) serves its files to its members and to
people whose request is accepted (``registry.access.check_can_read_files``). ``auto`` gating
accepts a request as it is made; ``manual`` gating leaves it pending for an admin.

Each decision takes the request's row lock (``select_for_update``), so two admins deciding at once
leave one answer, not a mix.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, NotFound, ValidationError
from common.events import Event, EventKind, emit
from hub.choices import AuditAction
from registry.access import repo_role
from registry.audit import repo_audit_record
from registry.cards.gate import gate_answers
from registry.choices import AccessRequestStatus, GatedMode
from registry.events import repo_snapshot
from registry.models import AccessRequest, Repo
from registry.selectors.access_requests import repo_gate_form

MAX_REASON = 1000


def check_repo_gated(*, repo: Repo) -> None:
    """A 400 for access-request operations on a repository that is not gated (as the Hub answers)."""
    if not repo.gated:
        raise ValidationError(f"{repo.repo_id} is not a gated repository.")


def access_request_create(*, repo: Repo, user, answers: dict) -> AccessRequest:
    """``user`` asks for ``repo``'s files with ``answers`` (label → value) to the card's questions.

    Accepted at once under ``auto`` gating, pending under ``manual``. A second request is a
    ``Conflict`` (a rejected person cannot ask again; an admin can move the request back to pending).
    """
    check_repo_gated(repo=repo)
    if repo_role(user=user, repo=repo) is not None:
        raise Conflict(f"You are a member of {repo.namespace.name} and can already read {repo.repo_id}.")
    fields, problems = gate_answers(repo_gate_form(repo=repo), answers)
    if problems:
        raise ValidationError(
            "Answer every question of the access form.", fields={label: [text] for label, text in problems.items()}
        )
    automatic = repo.gated == GatedMode.AUTO
    try:
        with transaction.atomic():
            return AccessRequest.objects.create(
                repo=repo,
                user=user,
                fields=fields,
                status=AccessRequestStatus.ACCEPTED if automatic else AccessRequestStatus.PENDING,
                decided_at=timezone.now() if automatic else None,
            )
    except IntegrityError:
        raise Conflict(f"You have already asked for access to {repo.repo_id}.") from None


def access_request_decide(
    *, repo: Repo, request: AccessRequest, status: AccessRequestStatus | str, reason: str = "", by
) -> AccessRequest:
    """Move ``request`` to ``status`` on behalf of the admin ``by``; ``reason`` goes with a rejection.

    ``NotFound`` when the request is already in that list (the Hub's answer to accepting an
    accepted request). Takes the request's row lock.
    """
    check_repo_gated(repo=repo)
    status = AccessRequestStatus(status)
    reason = reason.strip()
    if reason and status != AccessRequestStatus.REJECTED:
        raise ValidationError("A reason goes with a rejection only.", fields={"rejectionReason": ["Not allowed."]})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            f"The reason is limited to {MAX_REASON} characters.", fields={"rejectionReason": ["Too long."]}
        )
    with transaction.atomic():
        locked = AccessRequest.objects.select_for_update().filter(pk=request.pk, repo=repo).first()
        if locked is None:
            raise NotFound("No such access request for this repository.")
        if locked.status == status:
            raise NotFound(f"The access request of {request.user.username} is already {status.label.lower()}.")
        previous = locked.status
        locked.status = status
        locked.reason = reason
        locked.decided_by = by
        locked.decided_at = None if status == AccessRequestStatus.PENDING else timezone.now()
        locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        repo_audit_record(
            actor=by, action=AuditAction.ACCESS_DECIDE, repo=repo,
            data={"user": request.user.username, "before": {"status": previous}, "after": {"status": status.value}}
            | ({"reason": reason} if reason else {}),
        )  # fmt: skip
        if status != AccessRequestStatus.PENDING:
            _decided(repo=repo, request=locked, by=by)
    return locked


def _decided(*, repo: Repo, request: AccessRequest, by) -> None:
    """``access_request.decided``, addressed to the person who asked."""
    emit(
        Event(
            kind=EventKind.ACCESS_REQUEST_DECIDED, actor_id=getattr(by, "pk", None), repo=repo_snapshot(repo=repo),
            user_ids=(request.user_id,), data={"status": str(request.status), "reason": request.reason},
        )
    )  # fmt: skip


def access_grant(*, repo: Repo, user, by) -> AccessRequest:
    """Give ``user`` access to ``repo``'s files without a request of theirs (``grant_access``).

    ``ValidationError`` (400) when they already have access, as the Hub answers."""
    check_repo_gated(repo=repo)
    try:
        with transaction.atomic():
            existing = AccessRequest.objects.select_for_update().filter(repo=repo, user=user).first()
            if existing is not None and existing.status == AccessRequestStatus.ACCEPTED:
                raise ValidationError(f"{user.username} already has access to {repo.repo_id}.")
            previous = existing.status if existing is not None else None
            if existing is None:
                existing = AccessRequest(repo=repo, user=user, fields=None)
            existing.status = AccessRequestStatus.ACCEPTED
            existing.reason = ""
            existing.decided_by = by
            existing.decided_at = timezone.now()
            existing.save()
            repo_audit_record(
                actor=by, action=AuditAction.ACCESS_GRANT, repo=repo,
                data={"user": user.username, "before": {"status": previous}, "after": {"status": existing.status}},
            )  # fmt: skip
            _decided(repo=repo, request=existing, by=by)
    except IntegrityError:  # the person asked (or another admin granted) at the same moment
        raise Conflict(f"The access of {user.username} to {repo.repo_id} changed meanwhile; try again.") from None
    return existing
