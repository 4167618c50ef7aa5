"""Reports, moderation actions (the public log) and appeals.

A target is named by its kind and primary key; repository-bound targets (a repository, a
discussion, a comment) also keep their repository, so the log can hide the names of private ones
and lists follow the repository when it moves. Discussions and comments are referred to by id
only, never by foreign key: they belong to another app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from community.moderation.choices import ActionKind, AppealStatus, Reason, ReportStatus, TargetKind

MAX_TEXT = 2000
MAX_LABEL = 300


class Target(models.Model):
    """What a report or an action is about."""

    target_kind = models.CharField(max_length=12, choices=TargetKind.choices)
    target_id = models.PositiveBigIntegerField()
    target_repo = models.ForeignKey("registry.Repo", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The public name of the target when it was reported or acted on (``alice/tiny#3``).
    target_label = models.CharField(max_length=MAX_LABEL)

    class Meta:
        abstract = True


class Report(Target):
    """Someone signed in reports content or a user to the moderators."""

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_reports")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    text = models.TextField(max_length=MAX_TEXT, blank=True)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"report {self.pk} on {self.target_kind} {self.target_id}"


class ModerationAction(Target):
    """One thing a moderator did, with a reason code and a note; rows are never changed or
    deleted, so they are the public log (``selectors.moderation_log``)."""

    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    note = models.TextField(max_length=MAX_TEXT, blank=True)
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    # The appeal this action decided (an upheld or a reversed one).
    appeal = models.ForeignKey("Appeal", null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")
    # The action this one undoes (an enable after a disable).
    reverts = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverted_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["target_kind", "target_id", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.target_kind} {self.target_id}"


class Appeal(models.Model):
    """The affected owner's one appeal against an action, which a moderator upholds or reverses."""

    action = models.OneToOneField(ModerationAction, on_delete=models.CASCADE, related_name="appeal_made")
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=MAX_TEXT)
    status = models.CharField(max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"appeal {self.pk} of action {self.action_id}"
