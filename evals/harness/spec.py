"""Task specs: one YAML file per task, loaded into validated, immutable dataclasses.

A task file names a dataset snapshot (files pinned by sha256), the split to evaluate, Jinja
templates that turn a document into a prompt / target / choices, the request type sent to the
model and the metrics to report. Example (every key is described on :class:`TaskSpec`)::

    name: bigbench_snarks
    version: 1
    dataset:
      format: jsonl
      id_field: id
      splits:
        test: {path: bigbench/snarks.jsonl, sha256: e26ce2fb...}
    split: test
    output_type: multiple_choice
    doc_to_text: "\\nQ: {{ input }}\\nA: "
    doc_to_target: "{{ gold }}"
    doc_to_choice: "{{ choices }}"
    target_delimiter: ""
    metrics: [acc, acc_norm]

The :meth:`TaskSpec.content_hash` covers every field (templates and data sha256 included) plus the
version of the scoring code, so two runs with equal task hashes asked the model the same questions
and scored the answers the same way.
"""

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from evals.harness import filters as filters_mod
from evals.harness import templates
from evals.harness.errors import TaskSpecError
from evals.harness.hashing import sha256_json

# Bump when a change to the scoring code changes any number for an unchanged task spec; it is part
# of every task hash, so old and new results never share a hash.
SCORING_VERSION = 1

OUTPUT_TYPES = ("multiple_choice", "loglikelihood", "loglikelihood_rolling", "generate_until")

METRICS_FOR_OUTPUT = {
    "multiple_choice": ("acc", "acc_norm"),
    "loglikelihood": ("acc", "perplexity"),
    "loglikelihood_rolling": ("word_perplexity", "byte_perplexity", "bits_per_byte"),
    "generate_until": ("exact_match",),
}

DATASET_FORMATS = ("jsonl", "wikitext")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset snapshot, relative to the snapshot root, pinned by sha256."""

    path: str
    sha256: str

    def __post_init__(self) -> None:
        parts = Path(self.path).parts
        if not self.path or Path(self.path).is_absolute() or ".." in parts:
            raise TaskSpecError(f"data file path {self.path!r} must be relative to the dataset root, without '..'")
        if not _SHA256_RE.match(self.sha256):
            raise TaskSpecError(f"data file {self.path!r}: sha256 must be 64 lowercase hex digits, got {self.sha256!r}")


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset snapshot: its file format, the file of each split, and the item id field.

    ``format``: ``jsonl`` (one JSON object per line) or ``wikitext`` (articles that start with a
    `` = Title = `` line, separated by one blank line). ``id_field``: the document field holding a
    unique item id; without it the 0-based position in the split is the id.
    """

    format: str
    splits: Mapping[str, DataFile]
    id_field: str | None = None

    def __post_init__(self) -> None:
        if self.format not in DATASET_FORMATS:
            raise TaskSpecError(f"dataset.format must be one of {', '.join(DATASET_FORMATS)}, got {self.format!r}")
        if not self.splits:
            raise TaskSpecError("dataset.splits must name at least one split")


@dataclass(frozen=True)
class MetricSpec:
    """A metric to report. Only ``exact_match`` takes options (applied after the filters)."""

    name: str
    ignore_case: bool = False
    ignore_punctuation: bool = False

    def __post_init__(self) -> None:
        if self.name != "exact_match" and (self.ignore_case or self.ignore_punctuation):
            raise TaskSpecError(f"metric {self.name!r} takes no options")


@dataclass(frozen=True)
class GenerationSpec:
    """Greedy generation settings for ``generate_until``: stop strings and a token budget."""

    until: tuple[str, ...] = ("\n\n",)
    max_gen_toks: int = 256

    def __post_init__(self) -> None:
        if self.max_gen_toks < 1:
            raise TaskSpecError(f"generation.max_gen_toks must be >= 1, got {self.max_gen_toks}")
        if any(not stop for stop in self.until):
            raise TaskSpecError("generation.until must not contain empty strings")


@dataclass(frozen=True)
class FilterStep:
    """One post-processing step on generated text; see :mod:`evals.harness.filters`."""

    function: str
    pattern: str | None = None
    fallback: str = "[invalid]"

    def __post_init__(self) -> None:
        filters_mod.check_step(self.function, self.pattern)


@dataclass(frozen=True)
class TaskSpec:
    """A validated task.

    - ``name``, ``version``: identity; bump ``version`` on any intentional change.
    - ``dataset``, ``split``: where the documents come from.
    - ``output_type``: ``multiple_choice`` (one log-likelihood per choice), ``loglikelihood``
      (log-likelihood of the target), ``loglikelihood_rolling`` (perplexity of the target text),
      ``generate_until`` (greedy generation, exact match after ``filters``).
    - ``doc_to_text`` / ``doc_to_target`` / ``doc_to_choice``: Jinja templates over a document's
      fields. ``doc_to_target`` renders to a choice index (digits) or a string; ``doc_to_choice``
      renders to a list literal, or is a list of templates, one per choice.
    - ``description``: template rendered once in front of the prompt.
    - ``target_delimiter``: between a prompt and its answer (also in front of every choice).
    - ``fewshot_delimiter``: after every few-shot example.
    - ``num_fewshot``, ``fewshot_split``: examples drawn per item from ``fewshot_split`` (default:
      the evaluated split, never the item itself).
    - ``metrics``: defaults to every metric of the output type.
    - ``generation``, ``filters``: only for ``generate_until``.
    """

    name: str
    version: int
    dataset: DatasetSpec
    split: str
    output_type: str
    doc_to_text: str = ""
    doc_to_target: str = ""
    doc_to_choice: str | tuple[str, ...] | None = None
    description: str = ""
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    num_fewshot: int = 0
    fewshot_split: str | None = None
    metrics: tuple[MetricSpec, ...] = ()
    generation: GenerationSpec | None = None
    filters: tuple[FilterStep, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise TaskSpecError(f"name {self.name!r} must be 1-128 letters, digits, '_', '.' or '-'")
        if self.version < 0:
            raise TaskSpecError(f"version must be >= 0, got {self.version}")
        if self.output_type not in OUTPUT_TYPES:
            raise TaskSpecError(f"output_type must be one of {', '.join(OUTPUT_TYPES)}, got {self.output_type!r}")
        if self.split not in self.dataset.splits:
            raise TaskSpecError(f"split {self.split!r} is not among dataset.splits ({', '.join(self.dataset.splits)})")
        if self.fewshot_split is not None and self.fewshot_split not in self.dataset.splits:
            raise TaskSpecError(f"fewshot_split {self.fewshot_split!r} is not among dataset.splits")
        if self.num_fewshot < 0:
            raise TaskSpecError(f"num_fewshot must be >= 0, got {self.num_fewshot}")
        if self.output_type == "loglikelihood_rolling" and self.num_fewshot:
            raise TaskSpecError("loglikelihood_rolling tasks take no few-shot examples")
        if self.output_type == "multiple_choice" and self.doc_to_choice is None:
            raise TaskSpecError("multiple_choice tasks need doc_to_choice")
        if self.output_type == "generate_until" and self.generation is None:
            object.__setattr__(self, "generation", GenerationSpec())
        if self.output_type != "generate_until" and (self.generation is not None or self.filters):
            raise TaskSpecError("generation and filters apply to generate_until tasks only")
        if not self.doc_to_target:
            raise TaskSpecError("doc_to_target is required")
        allowed = METRICS_FOR_OUTPUT[self.output_type]
        if not self.metrics:
            object.__setattr__(self, "metrics", tuple(MetricSpec(name) for name in allowed))
        names = [metric.name for metric in self.metrics]
        for name in names:
            if name not in allowed:
                raise TaskSpecError(
                    f"metric {name!r} is not available for {self.output_type} (use {', '.join(allowed)})"
                )
        if len(set(names)) != len(names):
            raise TaskSpecError(f"metrics are listed twice: {names}")
        for label, source in self.templates().items():
            templates.check_template(source, label=label)

    def templates(self) -> dict[str, str]:
        """Every template of the spec by a readable label (used for checks and error messages)."""
        found = {"doc_to_text": self.doc_to_text, "doc_to_target": self.doc_to_target, "description": self.description}
        if isinstance(self.doc_to_choice, str):
            found["doc_to_choice"] = self.doc_to_choice
        elif self.doc_to_choice is not None:
            found.update({f"doc_to_choice[{i}]": source for i, source in enumerate(self.doc_to_choice)})
        return found

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the YAML form, with defaults filled in)."""
        data = asdict(self)
        data["dataset"]["splits"] = {name: asdict(f) for name, f in self.dataset.splits.items()}
        if isinstance(self.doc_to_choice, tuple):
            data["doc_to_choice"] = list(self.doc_to_choice)
        data["metrics"] = [asdict(metric) for metric in self.metrics]
        data["filters"] = [asdict(step) for step in self.filters]
        if self.generation is not None:
            data["generation"]["until"] = list(self.generation.until)
        return data

    def content_hash(self) -> str:
        """sha256 over the spec (templates and data sha256 included) and the scoring version."""
        return sha256_json({"scoring_version": SCORING_VERSION, "task": self.to_dict()})

    def data_files(self) -> dict[str, DataFile]:
        """The files this task reads: the evaluated split and, with few-shot, the few-shot split."""
        used = {self.split: self.dataset.splits[self.split]}
        if self.num_fewshot and self.fewshot_split is not None:
            used[self.fewshot_split] = self.dataset.splits[self.fewshot_split]
        return used

    def with_overrides(self, overrides: Mapping[str, Any], *, source: str) -> "TaskSpec":
        """A copy with top-level keys replaced, validated like a freshly loaded file."""
        return task_spec_from_dict({**self.to_dict(), **overrides}, source=source)


_TASK_KEYS = {f.name for f in fields(TaskSpec)}
_REQUIRED_TASK_KEYS = ("name", "version", "dataset", "split", "output_type", "doc_to_target")


def load_task_spec(path: str | Path) -> TaskSpec:
    """Read and validate a task YAML file; every problem raises :class:`TaskSpecError`."""
    path = Path(path)
    return task_spec_from_dict(read_yaml_mapping(path), source=str(path))


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping, or a :class:`TaskSpecError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskSpecError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise TaskSpecError(f"{path}: not UTF-8 text") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaskSpecError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise TaskSpecError(f"{path}: the top level must be a mapping of keys to values")
    return data


def task_spec_from_dict(raw: Mapping[str, Any], *, source: str) -> TaskSpec:
    """Build a :class:`TaskSpec` from parsed YAML, with errors prefixed by ``source``."""
    try:
        return _build_task_spec(raw)
    except TaskSpecError as exc:
        raise TaskSpecError(f"{source}: {exc}") from None


def _build_task_spec(raw: Mapping[str, Any]) -> TaskSpec:
    _check_keys(raw, allowed=_TASK_KEYS, required=_REQUIRED_TASK_KEYS, where="task")
    values: dict[str, Any] = {
        "name": _typed(raw, "name", str),
        "version": _typed(raw, "version", int),
        "dataset": _dataset(raw["dataset"]),
        "split": _typed(raw, "split", str),
        "output_type": _typed(raw, "output_type", str),
        "doc_to_target": _typed(raw, "doc_to_target", str),
    }
    for key in ("doc_to_text", "description", "target_delimiter", "fewshot_delimiter"):
        if key in raw:
            values[key] = _typed(raw, key, str)
    if "num_fewshot" in raw:
        values["num_fewshot"] = _typed(raw, "num_fewshot", int)
    if raw.get("fewshot_split") is not None:
        values["fewshot_split"] = _typed(raw, "fewshot_split", str)
    if raw.get("doc_to_choice") is not None:
        values["doc_to_choice"] = _choice_templates(raw["doc_to_choice"])
    if raw.get("metrics") is not None:
        values["metrics"] = tuple(_metric(item) for item in _typed(raw, "metrics", list))
    if raw.get("generation") is not None:
        values["generation"] = _generation(raw["generation"])
    if raw.get("filters") is not None:
        values["filters"] = tuple(_filter_step(item) for item in _typed(raw, "filters", list))
    return TaskSpec(**values)


def _dataset(raw: Any) -> DatasetSpec:
    if not isinstance(raw, dict):
        raise TaskSpecError("dataset must be a mapping with format and splits")
    _check_keys(raw, allowed={"format", "splits", "id_field"}, required=("format", "splits"), where="dataset")
    splits_raw = raw["splits"]
    if not isinstance(splits_raw, dict):
        raise TaskSpecError("dataset.splits must map split names to {path, sha256}")
    splits = {}
    for split, entry in splits_raw.items():
        if not isinstance(entry, dict):
            raise TaskSpecError(f"dataset.splits.{split} must be a mapping with path and sha256")
        _check_keys(entry, allowed={"path", "sha256"}, required=("path", "sha256"), where=f"dataset.splits.{split}")
        splits[str(split)] = DataFile(path=_typed(entry, "path", str), sha256=_typed(entry, "sha256", str))
    id_field = raw.get("id_field")
    if id_field is not None and not isinstance(id_field, str):
        raise TaskSpecError("dataset.id_field must be a string")
    return DatasetSpec(format=_typed(raw, "format", str), splits=splits, id_field=id_field)


def _choice_templates(raw: Any) -> str | tuple[str, ...]:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        return tuple(raw)
    raise TaskSpecError("doc_to_choice must be a template string or a non-empty list of template strings")


def _metric(raw: Any) -> MetricSpec:
    if isinstance(raw, str):
        return MetricSpec(raw)
    if isinstance(raw, dict):
        _check_keys(raw, allowed={f.name for f in fields(MetricSpec)}, required=("name",), where="metrics[]")
        for key in ("ignore_case", "ignore_punctuation"):
            if key in raw and not isinstance(raw[key], bool):
                raise TaskSpecError(f"metrics[].{key} must be true or false")
        return MetricSpec(**raw)
    raise TaskSpecError("each metric must be a name or a mapping with a name")


def _generation(raw: Any) -> GenerationSpec:
    if not isinstance(raw, dict):
        raise TaskSpecError("generation must be a mapping")
    _check_keys(raw, allowed={"until", "max_gen_toks"}, required=(), where="generation")
    values: dict[str, Any] = {}
    if "until" in raw:
        until = raw["until"]
        if isinstance(until, str):
            until = [until]
        if not isinstance(until, list) or not all(isinstance(s, str) for s in until):
            raise TaskSpecError("generation.until must be a string or a list of strings")
        values["until"] = tuple(until)
    if "max_gen_toks" in raw:
        values["max_gen_toks"] = _typed(raw, "max_gen_toks", int)
    return GenerationSpec(**values)


def _filter_step(raw: Any) -> FilterStep:
    if isinstance(raw, str):
        return FilterStep(raw)
    if isinstance(raw, dict):
        _check_keys(raw, allowed={f.name for f in fields(FilterStep)}, required=("function",), where="filters[]")
        for key, value in raw.items():
            if not isinstance(value, str):
                raise TaskSpecError(f"filters[].{key} must be a string")
        return FilterStep(**raw)
    raise TaskSpecError("each filter must be a function name or a mapping with a function")


def _check_keys(raw: Mapping[str, Any], *, allowed: set[str], required: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(map(str, raw)) - allowed)
    if unknown:
        raise TaskSpecError(f"unknown key(s) in {where}: {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    missing = [key for key in required if key not in raw]
    if missing:
        raise TaskSpecError(f"missing required key(s) in {where}: {', '.join(missing)}")


def _typed(raw: Mapping[str, Any], key: str, kind: type) -> Any:
    value = raw[key]
    # bool is an int subclass in Python; a YAML `true` is never a valid count or version.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TaskSpecError(f"{key} must be of type {kind.__name__}, got {type(value).__name__} ({value!r})")
    return value
