"""``card_parse``: from README text to a checked ``Card``, for each kind of repository.

What each kind of card is checked for:

- every card: ``license`` (a license id of the Hub's list, or ``other``), ``license_name``, ``license_link``,
  ``tags``, ``language`` and the access form of gated repos (``extra_gated_*``, warnings only); top-level
  keys must be strings, and the keys huggingface_hub's card classes reserve for themselves are refused so
  that the client can always load a card the registry accepted;
- model: ``pipeline_tag``, ``library_name``, ``datasets`` and ``base_model`` (repo ids),
  ``base_model_relation``, ``metrics`` and ``model-index``;
- dataset: ``license`` may list several ids; ``task_categories``, ``task_ids``, ``size_categories`` and the
  shape of ``configs``;
- space: ``sdk``, ``colorFrom``/``colorTo``, ``short_description``, ``models`` and ``datasets``;
- tutorial (this registry's own kind): ``authors``, ``difficulty``, ``reading_time``, ``models`` and
  ``datasets``.

Keys the registry does not know are kept as they are: the Hub allows free-form metadata.
"""

from typing import Any

from registry.cards import checks, vocab
from registry.cards.checks import Issues, describe
from registry.cards.frontmatter import front_matter_read
from registry.cards.gate import gate_card_problems
from registry.cards.model_index import read_model_index
from registry.cards.types import REPO_TYPES, Card

# Keyword arguments of huggingface_hub's CardData constructors that a card may not use as keys: the client
# builds its card data with ``CardData(**metadata, ignore_metadata_errors=...)``.
_RESERVED_KEYS = {
    "ignore_metadata_errors": "is reserved by the card loaders of huggingface_hub; remove it",
    "eval_results": "is not read from a card; write evaluation results under model-index",
}
_SHORT_DESCRIPTION_MAX = 60


def card_parse(text: str, *, repo_type: str) -> Card:
    """Parse and check the README ``text`` of a repository of ``repo_type``.

    Never raises on content: every problem is an error or a warning of the returned card. A text without
    front matter gives empty metadata, the whole text as body, and a warning (as the Hub gives). Raises
    ``ValueError`` only for a ``repo_type`` outside ``REPO_TYPES``.
    """
    if repo_type not in REPO_TYPES:
        raise ValueError(f"repo_type must be one of {', '.join(REPO_TYPES)}; got {repo_type!r}")
    front = front_matter_read(text)
    issues = Issues(errors=list(front.errors), warnings=list(front.warnings))
    raw = front.raw
    if front.errors and raw is None:  # nothing could be read
        return Card(repo_type=repo_type, metadata={}, body=front.body, errors=issues.errors, warnings=issues.warnings)
    if raw is not None and not isinstance(raw, dict):
        issues.error("yaml", f"the front matter must be a mapping of keys to values; found {describe(raw)}")
        return Card(repo_type=repo_type, metadata={}, body=front.body, errors=issues.errors, warnings=issues.warnings)
    if not raw:
        issues.warn(
            "yaml",
            "the card has no metadata; add a front matter block (a --- line, YAML keys such as license and tags,"
            " then a --- line) at the top of README.md",
        )
        raw = {}
    # Keys are checked on the values as YAML gave them (a date is not a string, NaN is not text), which is
    # what huggingface_hub will see; the card keeps their JSON form.
    metadata: dict[str, Any] = front.data or {}
    fields = _read_common(raw, issues, repo_type=repo_type)
    fields.update(_READERS[repo_type](raw, issues))
    if fields.get("model_index") is not None:
        fields["model_index"] = metadata["model-index"]
    return Card(
        repo_type=repo_type,
        metadata=metadata,
        body=front.body,
        errors=issues.errors,
        warnings=issues.warnings,
        **fields,
    )


def _read_common(metadata: dict, issues: Issues, *, repo_type: str) -> dict[str, Any]:
    for key, reason in _RESERVED_KEYS.items():
        if key in metadata:
            issues.error(key, reason)
    for wrong, right in vocab.MISSPELLED_KEYS.items():
        if wrong in metadata and right not in metadata:
            issues.warn(wrong, f'is not a key the registry reads; did you mean "{right}"?')
    for path, problem in gate_card_problems(metadata):
        issues.warn(path, problem)
    licenses = checks.read_licenses(metadata, issues, several=repo_type == "dataset")
    return {
        "licenses": licenses,
        "license": licenses[0] if licenses else None,
        "license_name": checks.read_license_name(metadata, issues),
        "license_link": checks.read_license_link(metadata, issues),
        "tags": checks.read_texts(metadata, "tags", issues),
        "language": checks.read_languages(metadata, issues),
    }


def _read_model(metadata: dict, issues: Issues) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "pipeline_tag": checks.read_pipeline_tag(metadata, issues),
        "library_name": checks.read_library_name(metadata, issues),
        "datasets": checks.read_repo_ids(metadata, "datasets", issues, kind="dataset"),
        "base_model": checks.read_repo_ids(metadata, "base_model", issues, kind="model"),
    }
    checks.read_choice(
        metadata,
        "base_model_relation",
        issues,
        choices=vocab.BASE_MODEL_RELATIONS,
        what="how the model derives from its base model",
    )
    for path, metric in checks.read_string_list(metadata, "metrics", issues, max_items=200):
        problem = checks.text_problem(metric)
        if problem:
            issues.error(path, problem)
    fields["model_index"], fields["eval_results"] = read_model_index(metadata, issues)
    return fields


def _read_dataset(metadata: dict, issues: Issues) -> dict[str, Any]:
    tasks = checks.read_string_list(metadata, "task_categories", issues, max_items=100)
    task_categories = [task for path, task in tasks if issues.report(path, checks.task_problem(task))]
    for path, task_id in checks.read_string_list(metadata, "task_ids", issues, max_items=100):
        if task_id not in vocab.SUBTASK_IDS:
            issues.warn(path, f"{checks.quoted(task_id)} is not a task id of the Hub's taxonomy; check the spelling")
    size_categories = []
    for path, size in checks.read_string_list(metadata, "size_categories", issues, max_items=20):
        if size in vocab.SIZE_CATEGORIES:
            size_categories.append(size)
        else:
            allowed = ", ".join(vocab.SIZE_CATEGORIES)
            issues.error(path, f"{checks.quoted(size)} is not a size category; use one of {allowed}")
    _check_configs(metadata.get("configs"), issues)
    checks.read_string(metadata, "pretty_name", issues, what="the dataset's display name")
    return {"task_categories": task_categories, "size_categories": size_categories}


def _check_configs(configs: Any, issues: Issues) -> None:
    """``configs``: a list of ``{config_name, data_files?, data_dir?, default?}`` with unique names."""
    if configs is None:
        return
    if not isinstance(configs, list):
        issues.error("configs", f"must be a list of configurations, each with a config_name; found {describe(configs)}")
        return
    names: set[str] = set()
    defaults = 0
    for index, config in enumerate(configs):
        path = f"configs[{index}]"
        if not isinstance(config, dict):
            issues.error(path, f"must be a mapping with config_name and data_files; found {describe(config)}")
            continue
        name = config.get("config_name")
        if not isinstance(name, str) or not name.strip():
            issues.error(f"{path}.config_name", f"must be the configuration's name (a string); found {describe(name)}")
        elif name in names:
            issues.error(
                f"{path}.config_name", f"{checks.quoted(name)} names another configuration too; names must be unique"
            )
        else:
            names.add(name)
        if "data_files" in config:
            _check_data_files(config["data_files"], f"{path}.data_files", issues)
        data_dir = config.get("data_dir")
        if data_dir is not None and not isinstance(data_dir, str):
            issues.error(f"{path}.data_dir", f"must be a directory of this repo (a string); found {describe(data_dir)}")
        default = config.get("default")
        if default is not None and not isinstance(default, bool):
            issues.error(f"{path}.default", f"must be true or false; found {describe(default)}")
        defaults += default is True
    if defaults > 1:
        issues.error("configs", f"marks {defaults} configurations as default; at most one may be")


def _check_data_files(data_files: Any, path: str, issues: Issues) -> None:
    """A path pattern, a list of them, or a list of ``{split, path}`` where path is a pattern or a list."""
    if isinstance(data_files, str):
        return
    if not isinstance(data_files, list):
        issues.error(path, f"must be a path pattern, a list of them, or a list of splits; found {describe(data_files)}")
        return
    for index, item in enumerate(data_files):
        where = f"{path}[{index}]"
        if isinstance(item, str):
            continue
        if not isinstance(item, dict):
            issues.error(where, f"must be a path pattern or a mapping with split and path; found {describe(item)}")
            continue
        if not isinstance(item.get("split"), str):
            issues.error(f"{where}.split", f"must be the split's name (a string); found {describe(item.get('split'))}")
        patterns = item.get("path")
        if not (
            isinstance(patterns, str)
            or (isinstance(patterns, list) and patterns and all(isinstance(p, str) for p in patterns))
        ):
            issues.error(f"{where}.path", f"must be a path pattern or a list of them; found {describe(patterns)}")


def _read_space(metadata: dict, issues: Issues) -> dict[str, Any]:
    checks.read_choice(metadata, "sdk", issues, choices=vocab.SPACE_SDKS, what="the SDK the Space runs on")
    for key in ("colorFrom", "colorTo"):
        checks.read_choice(metadata, key, issues, choices=vocab.SPACE_COLORS, what="a color name")
    description = checks.read_string(metadata, "short_description", issues, what="a one-line description")
    if description is not None and len(description) > _SHORT_DESCRIPTION_MAX:
        issues.error(
            "short_description",
            f"is {len(description)} characters long; at most {_SHORT_DESCRIPTION_MAX} are allowed",
        )
    checks.read_string(metadata, "title", issues, what="the Space's title")
    return {
        "models": checks.read_repo_ids(metadata, "models", issues, kind="model"),
        "datasets": checks.read_repo_ids(metadata, "datasets", issues, kind="dataset"),
    }


def _read_tutorial(metadata: dict, issues: Issues) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "authors": checks.read_texts(metadata, "authors", issues),
        "difficulty": checks.read_choice(
            metadata, "difficulty", issues, choices=vocab.TUTORIAL_DIFFICULTIES, what="the tutorial's level"
        ),
    }
    reading_time = metadata.get("reading_time")
    if reading_time is not None and (
        isinstance(reading_time, bool) or not isinstance(reading_time, int) or reading_time <= 0
    ):
        issues.error(
            "reading_time",
            f"must be a positive whole number of minutes, such as 15; found {describe(reading_time)}",
        )
        reading_time = None
    fields["reading_time"] = reading_time
    fields["models"] = checks.read_repo_ids(metadata, "models", issues, kind="model")
    fields["datasets"] = checks.read_repo_ids(metadata, "datasets", issues, kind="dataset")
    return fields


_READERS = {"model": _read_model, "dataset": _read_dataset, "space": _read_space, "tutorial": _read_tutorial}
