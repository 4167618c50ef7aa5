"""Reads of moderation: targets named by the caller, the moderators' queues, the public log, and
what an affected owner may appeal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from common.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from community.moderation.choices import REVERSALS, ActionKind, AppealStatus, ReportStatus, TargetKind
from community.moderation.models import Appeal, ModerationAction, Report
from community.selectors import comment_get, discussion_get
from hub.selectors import user_get_by_name
from registry.access import Permission, access_repo, repo_role
from registry.choices import RepoType
from registry.models import Repo


@dataclass(frozen=True)
class TargetRef:
    """A resolved target: its kind and id, the repository or user it belongs to, its public label
    and the object itself (a ``Repo``, a ``User``, a discussion or a comment)."""

    kind: TargetKind
    id: int
    label: str
    repo: Repo | None = None
    user: Any = None
    obj: Any = None


def check_moderator(*, user) -> None:
    """Moderators are users with ``is_moderator`` and staff; anyone else gets 401 or 403."""
    if user is None or not user.is_authenticated:
        raise Unauthenticated("Log in as a moderator.")
    if not user.can_moderate:
        raise PermissionDenied("Only moderators may do this.")


def is_moderator(*, user) -> bool:
    return user is not None and user.is_authenticated and user.can_moderate


def repo_target(*, user, repo_type: RepoType | str, namespace: str, name: str) -> TargetRef:
    """The repository ``namespace/name`` if ``user`` may see it (404 otherwise)."""
    repo = access_repo(user=user, repo_type=repo_type, namespace=namespace, name=name)
    return TargetRef(kind=TargetKind.REPO, id=repo.pk, label=repo.repo_id, repo=repo, obj=repo)


def user_target(*, name: str, include_suspended: bool = False) -> TargetRef:
    person = user_get_by_name(name=name, include_suspended=include_suspended)
    return TargetRef(kind=TargetKind.USER, id=person.pk, label=person.username, user=person, obj=person)


def reports_queue(*, status: ReportStatus | str = ReportStatus.OPEN) -> QuerySet[Report]:
    """Reports with ``status``, oldest first (the order moderators work them in)."""
    return (
        Report.objects.filter(status=ReportStatus(status))
        .select_related("reporter", "target_repo__namespace", "target_user", "resolved_by")
        .order_by("created_at", "id")
    )


def appeals_queue(*, status: AppealStatus | str = AppealStatus.PENDING) -> QuerySet[Appeal]:
    return (
        Appeal.objects.filter(status=AppealStatus(status))
        .select_related("appellant", "action__target_repo__namespace", "action__target_user", "decided_by")
        .order_by("created_at", "id")
    )


def report_get(*, report_id: int) -> Report:
    report = Report.objects.select_related("target_repo__namespace", "target_user").filter(pk=report_id).first()
    if report is None:
        raise NotFound(f"No report {report_id}.")
    return report


def appeal_get(*, appeal_id: int) -> Appeal:
    appeal = Appeal.objects.select_related("action__target_repo__namespace", "action__target_user").filter(pk=appeal_id)
    found = appeal.first()
    if found is None:
        raise NotFound(f"No appeal {appeal_id}.")
    return found


def action_get(*, action_id: int) -> ModerationAction:
    action = (
        ModerationAction.objects.select_related("target_repo__namespace", "target_user").filter(pk=action_id).first()
    )
    if action is None:
        raise NotFound(f"No moderation action {action_id}.")
    return action


def moderation_log() -> QuerySet[ModerationAction]:
    """Every action, newest first: the public log (``public_label`` says what it may show)."""
    return ModerationAction.objects.select_related("target_repo__namespace").order_by("-created_at", "-id")


def public_label(*, action: ModerationAction | Report) -> str:
    """What the public log may say of a target: a private repository (and what is in it) is shown
    without its name, a deleted one as deleted."""
    repo = action.target_repo
    if action.target_kind in (TargetKind.REPO, TargetKind.DISCUSSION, TargetKind.COMMENT):
        if repo is None:
            return "a deleted repository" if action.target_kind == TargetKind.REPO else "a deleted discussion"
        if repo.private:
            kind = repo.repo_type.label.lower()
            return f"a private {kind}" if action.target_kind == TargetKind.REPO else f"content of a private {kind}"
        if action.target_kind == TargetKind.REPO:
            return repo.repo_id
    return action.target_label


def public_link(*, action: ModerationAction) -> str | None:
    """The page of a public target, if it has one."""
    repo = action.target_repo
    if action.target_kind == TargetKind.REPO and repo is not None and not repo.private:
        return repo.web_path
    return None


def is_affected(*, user, action: ModerationAction) -> bool:
    """Whether ``user`` is the owner an action affects: an admin of the repository, the suspended
    user, the author of the comment or discussion."""
    if user is None or not user.is_authenticated:
        return False
    if action.target_kind == TargetKind.REPO:
        repo = action.target_repo
        return repo is not None and repo_role(user=user, repo=repo) == Permission.ADMIN
    if action.target_kind == TargetKind.USER:
        return action.target_user_id == user.pk
    return action.target_user_id == user.pk  # discussions and comments: their author


def action_in_force(*, action: ModerationAction) -> bool:
    """Whether ``action`` is an appealable action nothing has undone yet."""
    return action.kind in REVERSALS and not action.reverted_by.exists()


def appealable_action(*, user, target_kind: TargetKind, target_id: int) -> ModerationAction | None:
    """The latest action in force on a target that ``user`` may still appeal (none yet made)."""
    latest = (
        ModerationAction.objects.filter(target_kind=target_kind, target_id=target_id, kind__in=list(REVERSALS))
        .select_related("target_repo__namespace", "target_user")
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None or not action_in_force(action=latest) or not is_affected(user=user, action=latest):
        return None
    return latest


def appeal_of(*, action: ModerationAction) -> Appeal | None:
    return Appeal.objects.filter(action=action).first()


@dataclass(frozen=True)
class AppealOffer:
    """An action in force on what ``user`` wrote or owns, with the appeal already sent (if any)."""

    action: ModerationAction
    appeal: Appeal | None


def appeal_offer(*, user, target_kind: TargetKind, target_id: int) -> AppealOffer | None:
    action = appealable_action(user=user, target_kind=target_kind, target_id=target_id)
    return AppealOffer(action=action, appeal=appeal_of(action=action)) if action is not None else None


def discussion_appeal_offers(*, user, discussion, comment_ids: list[int]) -> dict[str, AppealOffer]:
    """What the author may appeal on a discussion's page: its lock (key ``discussion``) and the
    hidden comments ``comment_ids`` of theirs (key ``comment-{id}``)."""
    if user is None or not user.is_authenticated:
        return {}
    offers = {}
    if discussion.locked and discussion.author_id == user.pk:
        offers["discussion"] = appeal_offer(user=user, target_kind=TargetKind.DISCUSSION, target_id=discussion.pk)
    for comment_id in comment_ids:
        offers[f"comment-{comment_id}"] = appeal_offer(user=user, target_kind=TargetKind.COMMENT, target_id=comment_id)
    return {key: offer for key, offer in offers.items() if offer is not None}


def latest_action(*, target_kind: TargetKind, target_id: int, kind: ActionKind) -> ModerationAction | None:
    return (
        ModerationAction.objects.filter(target_kind=target_kind, target_id=target_id, kind=kind)
        .order_by("-created_at", "-id")
        .first()
    )


def target_resolve(
    *,
    user,
    kind: str,
    repo_type: str = "model",
    repo_id: str = "",
    username: str = "",
    num: int | None = None,
    comment_id: int | None = None,
    include_suspended: bool = False,
) -> TargetRef:
    """The target a caller names (``kind`` plus the repository id, the user name, the discussion
    number and comment id it needs), as ``user`` may see it: a private repository is a 404."""
    if kind not in TargetKind.values:
        raise ValidationError(
            f"kind must be one of {', '.join(TargetKind.values)}.", fields={"kind": ["Unknown target kind."]}
        )
    if kind == TargetKind.USER:
        if not username:
            raise ValidationError("Name the user to report.", fields={"username": ["This field is required."]})
        return user_target(name=username, include_suspended=include_suspended)
    if repo_type not in RepoType.values:
        raise ValidationError("repo_type must be model, dataset or tutorial.", fields={"repo_type": ["Unknown."]})
    namespace, slash, name = repo_id.partition("/")
    if not slash or not namespace or not name or "/" in name:
        raise ValidationError("repo_id must be 'namespace/name'.", fields={"repo_id": ["Expected namespace/name."]})
    target = repo_target(user=user, repo_type=repo_type, namespace=namespace, name=name)
    if kind == TargetKind.REPO:
        return target
    return discussion_target(repo=target.repo, kind=kind, num=num, comment_id=comment_id)


def discussion_target(*, repo: Repo, kind: str, num: int | None, comment_id: int | None) -> TargetRef:
    """Discussion ``num`` of ``repo``, or its comment ``comment_id``; the user of the target is
    its author (who may appeal)."""
    if num is None:
        raise ValidationError("Name the discussion by its number.", fields={"num": ["This field is required."]})
    discussion = discussion_get(repo=repo, num=num)
    label = f"{repo.repo_id}#{num}"
    if kind == TargetKind.DISCUSSION:
        return TargetRef(kind=TargetKind.DISCUSSION, id=discussion.pk, label=label, repo=repo,
                         user=discussion.author, obj=discussion)  # fmt: skip
    if comment_id is None:
        raise ValidationError("Name the comment by its id.", fields={"comment_id": ["This field is required."]})
    comment = comment_get(discussion=discussion, event_id=comment_id)
    return TargetRef(kind=TargetKind.COMMENT, id=comment.pk, label=f"{label} comment {comment.pk}", repo=repo,
                     user=comment.author, obj=comment)  # fmt: skip
