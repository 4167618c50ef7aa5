"""Enumerations of the community app."""

from django.db import models


class DiscussionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    MERGED = "merged", "Merged"


class DiscussionEventType(models.TextChoices):
    COMMENT = "comment", "Comment"
    STATUS_CHANGE = "status-change", "Status change"
    COMMIT = "commit", "Commit"
    TITLE_CHANGE = "title-change", "Title change"
    REVIEW_REQUEST = "review-request", "Review request"  # the hub's own: the Hub has no review requests


class ReviewState(models.TextChoices):
    """What a pull-request review says; stored as ``data["review"]`` of a comment event."""

    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class CheckState(models.TextChoices):
    """The state a check reports on a commit (the latest report of a name counts)."""

    PENDING = "pending", "Pending"
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    ERROR = "error", "Error"


class ReviewVerdict(models.TextChoices):
    """What a review submitted through the REST API says (``ReviewState`` is how it is stored;
    a comment-only review stores none)."""

    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    COMMENT = "comment", "Comment"
