"""Enumerations of the registry."""

from django.db import models


class RepoType(models.TextChoices):
    MODEL = "model", "Model"
    DATASET = "dataset", "Dataset"
    TUTORIAL = "tutorial", "Tutorial"

    @property
    def url_prefix(self) -> str:
        """The prefix of web and file URLs: none for models (HF_PROTOCOL.md §1)."""
        return "" if self is RepoType.MODEL else f"{self.value}s/"

    @property
    def api_plural(self) -> str:
        return f"{self.value}s"


class GatedMode(models.TextChoices):
    OFF = "", "Not gated"
    AUTO = "auto", "Automatic approval"
    MANUAL = "manual", "Manual approval"


class AccessRequestStatus(models.TextChoices):
    """Where a request for a gated repository's files stands (the Hub's three lists)."""

    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class UploadPolicy(models.TextChoices):
    """How preupload answers (HF_PROTOCOL.md §3)."""

    REGULAR = "regular", "Every file inline (works with any client)"
    LFS = "lfs", "LFS by the Hub's rules (clients with HF_HUB_DISABLE_XET=1)"
    XET = "xet", "LFS by the Hub's rules, uploaded through Xet"


class RepoSort(models.TextChoices):
    TRENDING = "trendingScore", "Trending"
    DOWNLOADS = "downloads", "Most downloads"
    LIKES = "likes", "Most likes"
    LAST_MODIFIED = "lastModified", "Recently updated"
    CREATED = "createdAt", "Recently created"


class UploadStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    ABORTED = "aborted", "Aborted"


class ScanStatus(models.TextChoices):
    """Where the malware scan of a blob stands (``registry.scanning``)."""

    PENDING = "pending", "Pending"
    CLEAN = "clean", "Clean"
    SUSPICIOUS = "suspicious", "Suspicious"
    DANGEROUS = "dangerous", "Dangerous"
    ERROR = "error", "Error"


class ConversionStatus(models.TextChoices):
    """A conversion to safetensors: queued, running, then succeeded (a pull request) or failed."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
