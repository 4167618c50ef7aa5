"""Enumerations of runs."""

from django.db import models


class RunKind(models.TextChoices):
    TRAINING = "training", "Training"
    EVALUATION = "evaluation", "Evaluation"


class RunState(models.TextChoices):
    """``queued → running → succeeded | failed | cancelled``; a run whose worker is lost goes back
    to ``queued`` and resumes from its last checkpoint."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES


FINISHED_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})

# Every allowed move; ``services.lifecycle.run_transition`` refuses anything else.
TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.QUEUED: frozenset({RunState.RUNNING, RunState.CANCELLED, RunState.FAILED}),
    RunState.RUNNING: frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.QUEUED}),
    RunState.SUCCEEDED: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.CANCELLED: frozenset(),
}


class OutputMode(models.TextChoices):
    """Where a training run publishes: a branch of the output repository, or a pull request."""

    BRANCH = "branch", "Commit to a branch"
    PULL_REQUEST = "pull_request", "Open a pull request"


class MetricEvent(models.TextChoices):
    TRAIN = "train", "Training step"
    EVAL = "eval", "Validation"


class LogLevel(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"
