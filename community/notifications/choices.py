"""What a notification is about; each kind has its own inbox and email setting."""

from django.db import models


class NotificationKind(models.TextChoices):
    MENTION = "mention", "Mentions of you in comments"
    DISCUSSION = "discussion", "Activity on discussions and pull requests you take part in or watch"
    REVIEW_REQUESTED = "review_requested", "Reviews requested from you"
    REVIEW = "review", "Reviews of your pull requests"
    STATUS = "status", "Pull requests and discussions merged, closed or reopened"
    CHECKS_FAILED = "checks_failed", "Failed checks on your pull requests"
    ACCESS_REQUEST = "access_request", "Decisions on your access requests"
    RUN_FINISHED = "run_finished", "Your runs finishing"


# (inbox, email) for people who never changed their settings.
DEFAULTS: dict[str, tuple[bool, bool]] = {
    NotificationKind.MENTION: (True, True),
    NotificationKind.DISCUSSION: (True, False),
    NotificationKind.REVIEW_REQUESTED: (True, True),
    NotificationKind.REVIEW: (True, True),
    NotificationKind.STATUS: (True, True),
    NotificationKind.CHECKS_FAILED: (True, True),
    NotificationKind.ACCESS_REQUEST: (True, True),
    NotificationKind.RUN_FINISHED: (True, False),
}
