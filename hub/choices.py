"""Enumerations of the hub app."""

from django.db import models


class NamespaceKind(models.TextChoices):
    USER = "user", "User"
    ORGANIZATION = "org", "Organization"


class OrgRole(models.TextChoices):
    """Roles inside an organization, from the most to the least powerful."""

    ADMIN = "admin", "Admin"
    WRITE = "write", "Write"
    READ = "read", "Read"

    @property
    def rank(self) -> int:
        return {"admin": 3, "write": 2, "read": 1}[self.value]


class TokenRole(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"


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


class ReviewState(models.TextChoices):
    """What a pull-request review says; stored as ``data["review"]`` of a comment event."""

    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
