"""Access requests to gated repositories: who asked, what they answered on the card's form, and
what the repository's admins decided.

Imported at the end of ``registry.models`` so Django registers the model with the app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.choices import AccessRequestStatus


class AccessRequest(models.Model):
    """One person's request for the files of one gated repository (at most one per pair).

    ``status`` moves only through ``registry.services.access_requests``: ``auto`` gating accepts at
    once, ``manual`` gating leaves the request pending until an admin accepts or rejects it (with a
    ``reason``); an admin may move it back to pending (the client's ``cancel_access_request``).
    ``fields`` holds the answers to the card's ``extra_gated_fields``, keyed by their labels;
    ``None`` when an admin granted access without a request.
    """

    repo = models.ForeignKey("registry.Repo", on_delete=models.CASCADE, related_name="access_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests")
    status = models.CharField(max_length=10, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING)
    fields = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint("repo", "user", name="access_request_repo_user_unique")]
        indexes = [models.Index(fields=["repo", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user} → {self.repo} ({self.status})"
