"""Runs and what they record: transitions, metrics, log lines and evaluation samples.

A run is a row with a state (STYLE.md §6): only ``services.lifecycle`` moves it, every move leaves
a ``RunTransition`` with its reason. Inputs are pinned by commit id at submission: a user asks for
``main``, the run records the commit ``main`` pointed to then, and the worker reads exactly that.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import get_script_prefix

from registry.models import Repo
from training_runner.jobs.choices import LogLevel, MetricEvent, OutputMode, RunKind, RunState


class Run(models.Model):
    """One training/fine-tuning job or one evaluation job."""

    kind = models.CharField(max_length=10, choices=RunKind.choices)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.QUEUED)
    reason = models.TextField(blank=True)  # the reason of the latest transition
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs")
    site_url = models.CharField(max_length=300, blank=True)  # the hub's address as the submitter saw it

    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField()  # last entry into ``queued``: fair-queue order
    started_at = models.DateTimeField(null=True, blank=True)  # first start
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Execution: the fair queue sends a run to the broker when a slot frees (``dispatched_at``);
    # a worker claims it (``attempt`` + 1) and keeps ``heartbeat_at`` fresh while it works.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    # Inputs, each pinned: the repository (kept by name too, should it be deleted later), the
    # revision the user asked for, and the commit it resolved to at submission.
    model_repo = models.ForeignKey(Repo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model_repo_name = models.CharField(max_length=200, blank=True)
    model_revision = models.CharField(max_length=255, blank=True)
    model_commit = models.CharField(max_length=40, blank=True)
    dataset_repo = models.ForeignKey(Repo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dataset_repo_name = models.CharField(max_length=200, blank=True)
    dataset_revision = models.CharField(max_length=255, blank=True)
    dataset_commit = models.CharField(max_length=40, blank=True)

    # Training.
    recipe = models.CharField(max_length=32, blank=True)
    params = models.JSONField(default=dict, blank=True)  # dotted keys, as the user gave them
    config = models.JSONField(default=dict, blank=True)  # the validated TrainConfig, machine paths left out
    evaluate_after = models.JSONField(default=list, blank=True)  # suites the published model is evaluated on
    output_repo = models.ForeignKey(Repo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    output_repo_name = models.CharField(max_length=200, blank=True)
    output_mode = models.CharField(max_length=16, choices=OutputMode.choices, blank=True)
    output_branch = models.CharField(max_length=255, blank=True)
    output_commit = models.CharField(max_length=40, blank=True)
    output_pull_request = models.PositiveIntegerField(null=True, blank=True)

    # Evaluation: a shipped suite by name, or a suite file in a dataset repository (the dataset
    # fields above pin it). ``suite_hash`` is the suite's content hash at submission.
    suite = models.CharField(max_length=200, blank=True)
    suite_file = models.CharField(max_length=500, blank=True)
    suite_hash = models.CharField(max_length=64, blank=True)
    limit = models.PositiveIntegerField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")

    # Progress and outcome.
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    progress = models.JSONField(default=dict, blank=True)  # stage, tokens_per_s, eta_s, task scores...
    checkpoint_step = models.PositiveIntegerField(null=True, blank=True)
    checkpoint_key = models.CharField(max_length=500, blank=True)  # storage prefix of the newest checkpoint
    results = models.JSONField(null=True, blank=True)  # training: final metrics; evaluation: results JSON
    fingerprint = models.CharField(max_length=64, blank=True)
    signed_results = models.JSONField(null=True, blank=True)  # evaluation: results signed by the hub's key

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "queued_at"]),
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["model_repo", "-created_at"]),
            models.Index(fields=["dataset_repo", "-created_at"]),
            models.Index(fields=["output_repo", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.kind}, {self.state})"

    @property
    def web_path(self) -> str:
        return f"{get_script_prefix()}runs/{self.pk}"

    @property
    def run_state(self) -> RunState:
        return RunState(self.state)


class RunTransition(models.Model):
    """One move of a run's state, with when, why and (for user actions) who."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=10, choices=RunState.choices, blank=True)  # blank: submission
    to_state = models.CharField(max_length=10, choices=RunState.choices)
    reason = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.from_state or '-'} -> {self.to_state}"


class RunMetric(models.Model):
    """The metrics of one training step or validation, as the training core reported them."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    event = models.CharField(max_length=8, choices=MetricEvent.choices)
    step = models.PositiveIntegerField()
    values = models.JSONField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "id"])]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.event} step {self.step}"


class RunLogLine(models.Model):
    """A line of a run's log, as its page and ``/logs`` show it."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="log_lines")
    at = models.DateTimeField()
    level = models.CharField(max_length=8, choices=LogLevel.choices, default=LogLevel.INFO)
    message = models.TextField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "id"])]

    def __str__(self) -> str:
        return self.message[:80]


class EvalSample(models.Model):
    """One scored item of an evaluation run: the harness's per-sample record, plus what listings
    filter on (the task, the item's position, whether the prediction was right)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="samples")
    task = models.CharField(max_length=200)
    item_id = models.CharField(max_length=200)
    position = models.PositiveIntegerField()  # order within the task, as the harness scored it
    correct = models.BooleanField(null=True)  # acc of multiple-choice items; None where it does not apply
    record = models.JSONField()

    class Meta:
        ordering = ["task", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "task", "item_id"], name="eval_sample_unique")]
        indexes = [models.Index(fields=["run", "task", "position"])]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.task}/{self.item_id}"


class QueueLock(models.Model):
    """One row per queue, locked while the fair queue chooses what to send next, so two
    dispatchers never hand out the same slot twice."""

    name = models.CharField(max_length=32, primary_key=True)

    def __str__(self) -> str:
        return self.name
