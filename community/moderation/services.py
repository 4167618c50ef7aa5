"""Writes of moderation: reports, the moderators' actions, appeals and their decisions.

Every action is one ``ModerationAction`` row plus the change it makes through the owning app's
service (``registry.services.repos.repo_set_disabled``, ``hub.services.suspensions``, the
discussions' services), in one transaction. Locks: the report or appeal being decided, then the
target's row (``select_for_update``), in that order.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from community.models import Discussion, DiscussionEvent
from community.moderation.choices import (
    ACTION_TARGETS,
    REVERSALS,
    ActionKind,
    AppealStatus,
    Reason,
    ReportStatus,
    TargetKind,
)
from community.moderation.models import MAX_LABEL, MAX_TEXT, Appeal, ModerationAction, Report
from community.moderation.selectors import (
    TargetRef,
    action_in_force,
    check_moderator,
    is_affected,
    latest_action,
)
from community.services.discussions import comment_set_hidden, discussion_set_locked
from hub.choices import AuditAction
from hub.models import User
from hub.services.audit import record
from hub.services.suspensions import user_suspend, user_unsuspend
from registry.audit import repo_audit_record
from registry.models import Repo
from registry.services.repos import repo_set_disabled


def _reason(reason: str) -> Reason:
    if reason not in Reason.values:
        raise ValidationError(
            f"reason must be one of {', '.join(Reason.values)}.", fields={"reason": ["Unknown reason code."]}
        )
    return Reason(reason)


def _text(text: str, *, field: str, required: bool = False) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise ValidationError(f"{field} is longer than {MAX_TEXT} characters.", fields={field: ["Too long."]})
    if "\x00" in text:
        raise ValidationError(f"{field} may not contain NUL characters.", fields={field: ["Invalid character."]})
    if required and not text:
        raise ValidationError(f"Say why in {field}.", fields={field: ["This field is required."]})
    return text


def _target_fields(target: TargetRef) -> dict:
    return {
        "target_kind": target.kind,
        "target_id": target.id,
        "target_repo": target.repo,
        "target_user": target.user,
        "target_label": target.label[:MAX_LABEL],
    }


def report_create(*, reporter: User, target: TargetRef, reason: str, text: str = "") -> Report:
    """``reporter`` reports ``target`` (already resolved with what ``reporter`` may see).

    ``other`` needs a text; one open report per reporter and target (409 for a second).
    """
    reason = _reason(reason)
    text = _text(text, field="text", required=reason == Reason.OTHER)
    if Report.objects.filter(
        reporter=reporter, target_kind=target.kind, target_id=target.id, status=ReportStatus.OPEN
    ).exists():
        raise Conflict("You already reported this; the moderators have it in their queue.")
    return Report.objects.create(reporter=reporter, reason=reason, text=text, **_target_fields(target))


def _apply(*, kind: ActionKind, target: TargetRef, reason: Reason, action: ModerationAction) -> None:
    """Make the change ``kind`` names, through the owning app's service."""
    if kind in (ActionKind.DISABLE_REPO, ActionKind.ENABLE_REPO):
        repo = Repo.objects.select_for_update().filter(pk=target.id).first()
        if repo is None:
            raise NotFound("This repository no longer exists.")
        if repo.disabled == (kind == ActionKind.DISABLE_REPO):
            raise Conflict(f"{repo.repo_id} is already {'disabled' if repo.disabled else 'enabled'}.")
        repo_set_disabled(repo=repo, disabled=kind == ActionKind.DISABLE_REPO, reason=reason, action_id=action.pk)
    elif kind in (ActionKind.SUSPEND_USER, ActionKind.UNSUSPEND_USER):
        person = User.objects.select_for_update().filter(pk=target.id).first()
        if person is None:
            raise NotFound("This account no longer exists.")
        suspended = person.suspended_at is not None
        if suspended == (kind == ActionKind.SUSPEND_USER):
            raise Conflict(f"{person.username} is already {'suspended' if suspended else 'active'}.")
        if kind == ActionKind.SUSPEND_USER:
            if person.is_staff or person.is_moderator:
                raise PermissionDenied("Moderators and staff cannot be suspended here; ask an administrator.")
            user_suspend(user=person, reason=reason)
        else:
            user_unsuspend(user=person)
    elif kind in (ActionKind.HIDE_COMMENT, ActionKind.UNHIDE_COMMENT):
        event = DiscussionEvent.objects.select_for_update().filter(pk=target.id).first()
        if event is None:
            raise NotFound("This comment no longer exists.")
        hidden = kind == ActionKind.HIDE_COMMENT
        if bool(event.data.get("hidden")) == hidden:
            raise Conflict(f"This comment is already {'hidden' if hidden else 'shown'}.")
        comment_set_hidden(event=event, hidden=hidden)
    else:  # the discussion kinds: ACTION_TARGETS allows nothing else
        discussion = Discussion.objects.select_for_update().filter(pk=target.id).first()
        if discussion is None:
            raise NotFound("This discussion no longer exists.")
        locked = kind == ActionKind.LOCK_DISCUSSION
        if discussion.locked == locked:
            raise Conflict(f"This discussion is already {'locked' if locked else 'unlocked'}.")
        discussion_set_locked(discussion=discussion, locked=locked)


def action_take(
    *,
    moderator: User,
    kind: str,
    target: TargetRef,
    reason: str,
    note: str = "",
    report: Report | None = None,
    appeal: Appeal | None = None,
) -> ModerationAction:
    """A moderator acts on ``target``: disables or enables a repository, suspends or unsuspends an
    account, hides a comment, locks or unlocks a discussion. The action is logged with its reason
    code and note; an undoing action records what it undoes. ``report``, if given, is closed as
    actioned."""
    check_moderator(user=moderator)
    if kind not in ACTION_TARGETS:
        raise ValidationError(f"kind must be one of {', '.join(ACTION_TARGETS)}.", fields={"kind": ["Unknown action."]})
    kind = ActionKind(kind)
    if ACTION_TARGETS[kind] != target.kind:
        raise ValidationError(f"'{kind}' does not apply to a {target.kind}.", fields={"kind": ["Wrong target."]})
    reason = _reason(reason)
    note = _text(note, field="note")
    undone = next((done for done, undo in REVERSALS.items() if undo == kind), None)
    with transaction.atomic():
        if report is not None:
            report = _open_report_locked(report)
        action = ModerationAction.objects.create(
            kind=kind, reason=reason, note=note, moderator=moderator, report=report, appeal=appeal,
            reverts=latest_action(target_kind=target.kind, target_id=target.id, kind=undone) if undone else None,
            **_target_fields(target),
        )  # fmt: skip
        _apply(kind=kind, target=target, reason=reason, action=action)
        _audit(moderator=moderator, action=action, target=target)
        if report is not None:
            _resolve(report, status=ReportStatus.ACTIONED, by=moderator)
    return action


def _audit(*, moderator: User, action: ModerationAction, target: TargetRef) -> None:
    """The action in the audit log too: in the repository's (and its organization's) log when the
    target belongs to a repository, in the site's log otherwise."""
    data = {"kind": str(action.kind), "reason": str(action.reason), "moderation_action": action.pk}
    if target.repo is not None:
        repo_audit_record(actor=moderator, action=AuditAction.MODERATION_ACTION, repo=target.repo, data=data)
    else:
        record(actor=moderator, action=AuditAction.MODERATION_ACTION, target_repr=target.label[:200], data=data)


def _open_report_locked(report: Report) -> Report:
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.OPEN:
        raise Conflict(f"Report {report.pk} is already {locked.status}.")
    return locked


def _resolve(report: Report, *, status: ReportStatus, by: User) -> None:
    report.status, report.resolved_at, report.resolved_by = status, timezone.now(), by
    report.save(update_fields=["status", "resolved_at", "resolved_by"])


def report_dismiss(*, moderator: User, report: Report, reason: str, note: str = "") -> ModerationAction:
    """A moderator closes ``report`` without acting on its target (logged as an action)."""
    check_moderator(user=moderator)
    reason = _reason(reason)
    note = _text(note, field="note")
    with transaction.atomic():
        report = _open_report_locked(report)
        action = ModerationAction.objects.create(
            kind=ActionKind.DISMISS_REPORT, reason=reason, note=note, moderator=moderator, report=report,
            **_target_fields(stored_target(of=report)),
        )  # fmt: skip
        _audit(moderator=moderator, action=action, target=stored_target(of=report))
        _resolve(report, status=ReportStatus.DISMISSED, by=moderator)
    return action


def appeal_create(*, user: User, action: ModerationAction, text: str) -> Appeal:
    """The affected owner appeals ``action``, once (409 for a second appeal); only actions still
    in force may be appealed."""
    if not is_affected(user=user, action=action):
        raise PermissionDenied("Only the owner this action affects may appeal it.")
    if not action_in_force(action=action):
        raise ValidationError("This action cannot be appealed: it is not in force.")
    text = _text(text, field="text", required=True)
    if Appeal.objects.filter(action=action).exists():
        raise Conflict("This action was already appealed; each action may be appealed once.")
    return Appeal.objects.create(action=action, appellant=user, text=text)


def appeal_decide(*, moderator: User, appeal: Appeal, decision: str, note: str = "") -> ModerationAction:
    """A moderator upholds ``appeal``'s action (logged) or reverses it (the undoing action,
    logged with the appeal)."""
    check_moderator(user=moderator)
    if decision not in ("uphold", "reverse"):
        raise ValidationError("decision must be uphold or reverse.", fields={"decision": ["Unknown decision."]})
    note = _text(note, field="note")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("action").get(pk=appeal.pk)
        if appeal.status != AppealStatus.PENDING:
            raise Conflict(f"Appeal {appeal.pk} was already decided ({appeal.status}).")
        original = appeal.action
        if decision == "reverse":
            action = action_take(
                moderator=moderator, kind=REVERSALS[original.kind], target=stored_target(of=original),
                reason=original.reason,
                note=note, appeal=appeal,
            )  # fmt: skip
            appeal.status = AppealStatus.REVERSED
        else:
            action = ModerationAction.objects.create(
                kind=ActionKind.UPHOLD_APPEAL, reason=original.reason, note=note, moderator=moderator, appeal=appeal,
                **_target_fields(stored_target(of=original)),
            )  # fmt: skip
            _audit(moderator=moderator, action=action, target=stored_target(of=original))
            appeal.status = AppealStatus.UPHELD
        appeal.decided_at, appeal.decided_by = timezone.now(), moderator
        appeal.save(update_fields=["status", "decided_at", "decided_by"])
    return action


def stored_target(*, of: Report | ModerationAction) -> TargetRef:
    """The target a report or an action names, as the moderators act on it (whatever its
    visibility)."""
    return TargetRef(
        kind=TargetKind(of.target_kind), id=of.target_id, label=of.target_label,
        repo=of.target_repo, user=of.target_user,
    )  # fmt: skip
