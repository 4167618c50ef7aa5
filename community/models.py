"""Discussions and pull requests on repositories, and their timelines."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from community.choices import CheckState, DiscussionEventType, DiscussionStatus


class Discussion(models.Model):
    """A discussion or pull request on a repository. Numbers are shared by both kinds, per
    repository, from 1; a pull request owns the ref ``refs/pr/<num>``."""

    repo = models.ForeignKey("registry.Repo", on_delete=models.CASCADE, related_name="discussions")
    num = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    is_pull_request = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=DiscussionStatus.choices, default=DiscussionStatus.OPEN)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="discussions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Pull requests: the branch they merge into, and the commit the merge produced.
    target_ref = models.CharField(max_length=255, blank=True)
    merge_commit_oid = models.CharField(max_length=40, blank=True)
    # Locked by the site's moderators (``community.moderation``): nobody may comment any more.
    locked = models.BooleanField(default=False)

    class Meta:
        db_table = "hub_discussion"  # kept from when discussions lived in the hub app (data moved as is)
        constraints = [models.UniqueConstraint(fields=["repo", "num"], name="discussion_num_unique")]
        indexes = [models.Index(fields=["repo", "-num"], name="hub_discuss_repo_id_38cf2a_idx")]

    def __str__(self) -> str:
        return f"#{self.num} {self.title}"

    @property
    def git_reference(self) -> str | None:
        return f"refs/pr/{self.num}" if self.is_pull_request else None


class DiscussionEvent(models.Model):
    """One entry of a discussion's timeline. ``data`` holds the type's fields: a comment's
    ``content``/``edited``/``hidden``/``history``, a status, a commit's ``oid``/``subject``, or a
    title change's ``from``/``to``."""

    discussion = models.ForeignKey(Discussion, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=16, choices=DiscussionEventType.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    data = models.JSONField(default=dict)

    class Meta:
        db_table = "hub_discussionevent"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} on {self.discussion_id}"


class BranchRule(models.Model):
    """How a branch of a repository is protected. Direct commits and pushes need
    ``require_pull_request`` off or the pusher in ``bypass``; a merge into it needs
    ``required_approvals`` approvals from writers (only those after the latest commit when
    ``dismiss_stale_approvals``), no writer's latest review asking for changes, every check of
    ``required_checks`` green on the pull request's head, and, with ``code_owners``, an approval
    from an owner (``CODEOWNERS`` on the branch) of each changed file. The branch can be neither
    deleted nor rewritten while the rule exists. ``bypass`` lists usernames exempt from the
    commit and merge requirements."""

    repo = models.ForeignKey("registry.Repo", on_delete=models.CASCADE, related_name="branch_rules")
    branch = models.CharField(max_length=200)
    require_pull_request = models.BooleanField(default=True)
    required_approvals = models.PositiveSmallIntegerField(default=0)
    required_checks = models.JSONField(default=list)
    code_owners = models.BooleanField(default=False)
    dismiss_stale_approvals = models.BooleanField(default=False)
    bypass = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "branch"], name="branch_rule_unique")]

    def __str__(self) -> str:
        return f"rule of {self.branch} in {self.repo_id}"


class CommitCheck(models.Model):
    """A named check (CI, a scan, an evaluation) reported on a commit; reporting the same name
    again replaces the state."""

    repo = models.ForeignKey("registry.Repo", on_delete=models.CASCADE, related_name="commit_checks")
    commit_oid = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    state = models.CharField(max_length=8, choices=CheckState.choices)
    summary = models.CharField(max_length=1000, blank=True)
    details_url = models.URLField(max_length=2000, blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "commit_oid", "name"], name="commit_check_unique")]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}={self.state} on {self.commit_oid[:7]}"
