"""BIG-bench multiple-choice tasks as task specs.

The format (``shared/data/bigbench``): one JSONL file per task with ``{"id", "input", "choices",
"gold", "task"}`` lines, and an index ``tasks.json`` that holds, per task, the file's sha256 and
the prompt-format fields BIG-bench's JSON tasks set (absent fields take ``bigbench_defaults``).

Prompt of one example, as BIG-bench builds it::

    example_input_prefix + input
      [+ choice_prefix + choice, for each choice in a seeded shuffle of the sorted choices,
         when append_choices_to_input]
      + example_output_prefix

``task_prefix`` goes once in front of the prompt (our ``description``), few-shot examples are
separated by ``few_shot_example_separator``, and every choice is scored as the continuation of the
prompt (``target_delimiter`` is empty: the output prefix already ends the prompt). The shuffle of
listed choices is seeded by (task, id) — BIG-bench's own shuffle uses numpy's global generator and
cannot be reproduced item by item; scoring of the choices themselves does not depend on it.

The index is pinned by the suite; each task file is then pinned by the sha256 the index records.
"""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from evals.harness.data import read_pinned
from evals.harness.errors import DatasetError, TaskSpecError
from evals.harness.spec import DataFile, DatasetSpec, MetricSpec, TaskSpec
from evals.harness.templates import literal

FORMAT_FIELDS = (
    "task_prefix",
    "example_input_prefix",
    "choice_prefix",
    "example_output_prefix",
    "append_choices_to_input",
    "few_shot_example_separator",
)
TASK_NAME_PREFIX = "bigbench_"


def bigbench_task_specs(
    *, data_root: Path, index: DataFile, names: Sequence[str], num_fewshot: int = 0, version: int = 1
) -> list[TaskSpec]:
    """Task specs for ``names`` from a pinned ``tasks.json`` index."""
    catalog = read_index(data_root, index)
    defaults = catalog["bigbench_defaults"]
    base = PurePosixPath(index.path).parent
    specs = []
    for name in names:
        entry = catalog["tasks"].get(name)
        if entry is None:
            raise TaskSpecError(
                f"BIG-bench task {name!r} is not in {index.path} (has: {', '.join(sorted(catalog['tasks']))})"
            )
        fmt = {key: entry.get(key, defaults.get(key)) for key in FORMAT_FIELDS}
        missing = [key for key, value in fmt.items() if value is None]
        if missing:
            raise DatasetError(f"{index.path}: task {name!r} has no value or default for {', '.join(missing)}")
        specs.append(
            TaskSpec(
                name=TASK_NAME_PREFIX + name,
                version=version,
                dataset=DatasetSpec(
                    format="jsonl",
                    splits={"test": DataFile(path=str(base / entry["file"]), sha256=entry["sha256"])},
                    id_field="id",
                ),
                split="test",
                output_type="multiple_choice",
                doc_to_text=prompt_template(fmt),
                doc_to_target="{{ gold }}",
                doc_to_choice="{{ choices }}",
                description=literal(fmt["task_prefix"]),
                target_delimiter="",
                fewshot_delimiter=fmt["few_shot_example_separator"],
                num_fewshot=num_fewshot,
                metrics=(MetricSpec("acc"), MetricSpec("acc_norm")),
            )
        )
    return specs


def prompt_template(fmt: Mapping[str, Any]) -> str:
    """The ``doc_to_text`` template of a task with the given format fields."""
    listed = ""
    if fmt["append_choices_to_input"]:
        listed = (
            "{% for choice in choices | sort | seeded_shuffle(task, id) %}"
            + literal(fmt["choice_prefix"])
            + "{{ choice }}{% endfor %}"
        )
    return literal(fmt["example_input_prefix"]) + "{{ input }}" + listed + literal(fmt["example_output_prefix"])


def read_index(data_root: Path, index: DataFile) -> dict[str, Any]:
    """The parsed, pin-checked ``tasks.json``."""
    try:
        catalog = json.loads(read_pinned(data_root, index))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{index.path}: invalid JSON: {exc.msg}") from None
    if not isinstance(catalog, dict) or not isinstance(catalog.get("tasks"), dict):
        raise DatasetError(f"{index.path}: expected an object with a 'tasks' mapping")
    if not isinstance(catalog.get("bigbench_defaults"), dict):
        raise DatasetError(f"{index.path}: expected a 'bigbench_defaults' mapping")
    for name, entry in catalog["tasks"].items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("file"), str)
            or not isinstance(entry.get("sha256"), str)
        ):
            raise DatasetError(f"{index.path}: task {name!r} needs 'file' and 'sha256' strings")
    return catalog
