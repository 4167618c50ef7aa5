"""Leaderboards and their entries.

A board is a suite (pinned by content hash, and by commit when it lives in a dataset repository),
the columns it shows (suite aggregate or task, and metric; the first column ranks), and who may
submit. An entry is one submission of ``model@commit``: admitted or rejected with a reason, then
evaluated by an evaluation run whose state it mirrors. The board page reads finished, current
entries with their scores, intervals and ranks already computed (``services.scoring``), so it
costs a few queries whatever the board's size, and keeps its entries' keys, queue, rendered rows and
exports in the cache under the board's ``version``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import get_script_prefix

from evals.leaderboards.choices import EntrySource, EntryState, SubmissionPolicy
from hub.models import Namespace
from registry.models import Repo
from training_runner.jobs.models import Run


def new_board_version() -> str:
    return uuid.uuid4().hex


class Leaderboard(models.Model):
    """A public board of models scored on one suite."""

    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="leaderboards")
    name = models.CharField(max_length=96)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    suite = models.CharField(max_length=200)  # a shipped suite, or datasets/<ns>/<name>
    suite_repo = models.ForeignKey(Repo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suite_revision = models.CharField(max_length=255, blank=True)
    suite_commit = models.CharField(max_length=40, blank=True)
    suite_file = models.CharField(max_length=500, blank=True)
    suite_hash = models.CharField(max_length=64)
    limit = models.PositiveIntegerField(null=True, blank=True)  # items per task; None: all
    # Columns in order, the first ranks: [{"task": "*" | task name, "metric": "acc", "higher_is_better": true}]
    columns = models.JSONField(default=list)
    chance = models.JSONField(default=dict, blank=True)  # column key -> chance level, from the items' choices
    policy = models.CharField(max_length=10, choices=SubmissionPolicy.choices, default=SubmissionPolicy.ANYONE)
    max_parameters = models.PositiveBigIntegerField(null=True, blank=True)
    submissions_per_day = models.PositiveIntegerField(default=5)  # per user, and per organization owning the model
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ranked_at = models.DateTimeField(null=True, blank=True)
    # A new random token at every change to what the board's table shows (``services.boards.board_touch``):
    # the page caches its keys, queue, rows and exports under it, so a change is seen at once. Random rather than
    # a counter or a time, so a board made again under a former primary key (SQLite reuses them)
    # or two changes in the same instant never meet rows cached before.
    version = models.CharField(max_length=32, default=new_board_version, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="leaderboard_name_unique")]

    def __str__(self) -> str:
        return self.board_id

    @property
    def board_id(self) -> str:
        return f"{self.namespace.name}/{self.name}"

    @property
    def web_path(self) -> str:
        return f"{get_script_prefix()}leaderboards/{self.board_id}"


class Entry(models.Model):
    """One submission of a model at a commit to a board, and what came of it."""

    board = models.ForeignKey(Leaderboard, on_delete=models.CASCADE, related_name="entries")
    model_repo = models.ForeignKey(Repo, null=True, on_delete=models.SET_NULL, related_name="leaderboard_entries")
    model_repo_name = models.CharField(max_length=200)
    model_revision = models.CharField(max_length=255)
    model_commit = models.CharField(max_length=40, blank=True)
    submitter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=EntrySource.choices, default=EntrySource.SUBMITTED)
    state = models.CharField(max_length=10, choices=EntryState.choices, default=EntryState.QUEUED)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="leaderboard_entries")
    pull_request = models.PositiveIntegerField(null=True, blank=True)  # a pull request's head, not shown ranked
    # The board shows one entry per model: the newest finished one of its default branch.
    current = models.BooleanField(default=False)

    # What the board shows, computed when the run finishes (scoring) and when ranks are refreshed.
    scores = models.JSONField(default=dict, blank=True)  # column key -> {value, ci95, n, normalized}
    primary = models.FloatField(null=True, blank=True)  # the ranking column's value, for ordering
    rank = models.PositiveIntegerField(null=True, blank=True)  # shared by entries noise cannot separate
    rank_low = models.PositiveIntegerField(null=True, blank=True)
    rank_high = models.PositiveIntegerField(null=True, blank=True)
    item_values = models.BinaryField(null=True, blank=True)  # the ranking column's per-item values (npz)
    parameters = models.PositiveBigIntegerField(null=True, blank=True)
    license = models.CharField(max_length=64, blank=True)
    architecture = models.CharField(max_length=32, blank=True)
    base_model = models.CharField(max_length=200, blank=True)

    # Trust: contamination found by n-gram overlap, flags from the community, reproduction by a re-run.
    contamination = models.JSONField(null=True, blank=True)  # {"rate", "items", "n", "datasets": [...]}
    flagged = models.BooleanField(default=False)
    reproduced = models.BooleanField(null=True, blank=True)
    delta = models.JSONField(null=True, blank=True)  # a pull request's entry: {"base_entry", "rows"} vs the branch
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["board", "current", "rank"]),
            models.Index(fields=["board", "model_commit"]),
            models.Index(fields=["board", "-created_at"]),
            models.Index(fields=["model_repo", "current"]),
        ]

    def __str__(self) -> str:
        return f"{self.model_repo_name}@{self.model_commit[:12]} on {self.board_id}"

    @property
    def board_id(self) -> str:
        return self.board.board_id


class Flag(models.Model):
    """A community flag on an entry, discussed in public on the model's repository."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    discussion_num = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "user"], name="flag_once_per_user")]

    def __str__(self) -> str:
        return f"flag on {self.entry_id} by {self.user_id}"
