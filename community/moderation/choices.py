"""Enumerations of moderation."""

from django.db import models


class Reason(models.TextChoices):
    """Why something is reported, and why a moderator acted (the same codes)."""

    SPAM = "spam", "Spam"
    MALWARE = "malware", "Malware"
    ILLEGAL_CONTENT = "illegal_content", "Illegal content"
    LICENCE_VIOLATION = "licence_violation", "Licence violation"
    HARASSMENT = "harassment", "Harassment"
    OTHER = "other", "Other"


class TargetKind(models.TextChoices):
    REPO = "repo", "Repository"
    DISCUSSION = "discussion", "Discussion"
    COMMENT = "comment", "Comment"
    USER = "user", "User"


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACTIONED = "actioned", "Actioned"
    DISMISSED = "dismissed", "Dismissed"


class ActionKind(models.TextChoices):
    DISABLE_REPO = "disable_repo", "Repository disabled"
    ENABLE_REPO = "enable_repo", "Repository enabled"
    SUSPEND_USER = "suspend_user", "Account suspended"
    UNSUSPEND_USER = "unsuspend_user", "Account unsuspended"
    HIDE_COMMENT = "hide_comment", "Comment hidden"
    UNHIDE_COMMENT = "unhide_comment", "Comment shown again"
    LOCK_DISCUSSION = "lock_discussion", "Discussion locked"
    UNLOCK_DISCUSSION = "unlock_discussion", "Discussion unlocked"
    DISMISS_REPORT = "dismiss_report", "Report dismissed"
    UPHOLD_APPEAL = "uphold_appeal", "Appeal rejected, action upheld"


class AppealStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    UPHELD = "upheld", "Upheld"
    REVERSED = "reversed", "Reversed"


# What each kind acts on, and the action that undoes it (an appeal that succeeds takes it).
ACTION_TARGETS: dict[str, str] = {
    ActionKind.DISABLE_REPO: TargetKind.REPO,
    ActionKind.ENABLE_REPO: TargetKind.REPO,
    ActionKind.SUSPEND_USER: TargetKind.USER,
    ActionKind.UNSUSPEND_USER: TargetKind.USER,
    ActionKind.HIDE_COMMENT: TargetKind.COMMENT,
    ActionKind.UNHIDE_COMMENT: TargetKind.COMMENT,
    ActionKind.LOCK_DISCUSSION: TargetKind.DISCUSSION,
    ActionKind.UNLOCK_DISCUSSION: TargetKind.DISCUSSION,
}
REVERSALS: dict[str, str] = {
    ActionKind.DISABLE_REPO: ActionKind.ENABLE_REPO,
    ActionKind.SUSPEND_USER: ActionKind.UNSUSPEND_USER,
    ActionKind.HIDE_COMMENT: ActionKind.UNHIDE_COMMENT,
    ActionKind.LOCK_DISCUSSION: ActionKind.UNLOCK_DISCUSSION,
}
