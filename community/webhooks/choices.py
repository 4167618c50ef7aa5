from django.db import models


class WatchKind(models.TextChoices):
    """What a webhook watches: one repository (by type) or every repository of a namespace
    (HF's ``watched[].type``; ``tutorial`` is this hub's own repository type)."""

    MODEL = "model", "Model"
    DATASET = "dataset", "Dataset"
    TUTORIAL = "tutorial", "Tutorial"
    USER = "user", "User"
    ORG = "org", "Organization"

    @property
    def is_repo(self) -> bool:
        return self in {WatchKind.MODEL, WatchKind.DATASET, WatchKind.TUTORIAL}


class WebhookDomain(models.TextChoices):
    REPO = "repo", "Repository changes"
    DISCUSSION = "discussion", "Discussions and pull requests"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its first attempt or a retry
    SENDING = "sending", "Sending"  # an attempt is in flight
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # out of attempts, or refused for good
