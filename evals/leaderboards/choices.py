"""Enumerations of leaderboards."""

from django.db import models


class EntryState(models.TextChoices):
    """A submission's visible state: admission refused (``rejected``), or its evaluation run's."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


class EntrySource(models.TextChoices):
    """How a submission came to be."""

    SUBMITTED = "submitted", "Submitted by its owner"
    CARD = "card", "Enrolled by the model card"
    MAIN_MOVED = "main_moved", "Re-evaluated after a new commit on the default branch"
    PULL_REQUEST = "pull_request", "Evaluated on a pull request"
    RERUN = "rerun", "Re-run to reproduce a result"


class SubmissionPolicy(models.TextChoices):
    ANYONE = "anyone", "Anyone may submit their models"
    MEMBERS = "members", "Members of the board's organization"
    OWNER = "owner", "Only the board's owners"
