"""The values a parsed card is made of."""

from dataclasses import dataclass, field
from typing import Any

REPO_TYPES = ("model", "dataset", "space", "tutorial")


@dataclass(frozen=True)
class CardIssue:
    """One problem found in a card: the metadata path it concerns and a sentence saying what is wrong.

    ``field`` is a path into the front matter (``license``, ``tags[2]``,
    ``model-index[0].results[1].metrics[0].value``) or ``yaml`` for problems with the front matter as a whole
    (syntax, size, fences). ``message`` reads on its own after that path; ``str(issue)`` joins the two.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class EvalResult:
    """One metric of one model on one task and dataset, flattened out of ``model-index``.

    The fields and their meaning follow the ``EvalResult`` of huggingface_hub, so that both sides flatten a
    ``model-index`` to the same list; ``model_name`` adds the name of the ``model-index`` entry it came from.
    """

    task_type: str
    dataset_type: str
    dataset_name: str
    metric_type: str
    metric_value: Any
    task_name: str | None = None
    dataset_config: str | None = None
    dataset_split: str | None = None
    dataset_revision: str | None = None
    dataset_args: Any = None
    metric_name: str | None = None
    metric_config: str | None = None
    metric_args: Any = None
    verified: bool | None = None
    verify_token: str | None = None
    source_name: str | None = None
    source_url: str | None = None
    model_name: str | None = None


@dataclass(frozen=True)
class Card:
    """A README.md split into its metadata and its markdown body, with the metadata checked.

    ``metadata`` is the front matter as written (unknown keys included), made JSON-serialisable. The other
    fields are normalised views of the well-known keys: a value that failed validation is left out of them
    (but stays in ``metadata``), so an invalid card still yields what could be read. ``errors`` refuse a
    commit; ``warnings`` are reported but do not.
    """

    repo_type: str
    metadata: dict[str, Any]
    body: str
    license: str | None = None
    licenses: list[str] = field(default_factory=list)
    license_name: str | None = None
    license_link: str | None = None
    tags: list[str] = field(default_factory=list)
    pipeline_tag: str | None = None
    library_name: str | None = None
    datasets: list[str] = field(default_factory=list)
    base_model: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    model_index: list | None = None
    eval_results: list[EvalResult] = field(default_factory=list)
    task_categories: list[str] = field(default_factory=list)
    size_categories: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    difficulty: str | None = None
    reading_time: int | None = None
    errors: list[CardIssue] = field(default_factory=list)
    warnings: list[CardIssue] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        """Whether the card may be committed: no errors (warnings allowed)."""
        return not self.errors
