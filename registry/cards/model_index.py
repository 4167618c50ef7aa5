"""Checking ``model-index`` and flattening it into evaluation results.

The structure is the one of the Hub's model card specification (hub-docs ``modelcard.md``) and the one
huggingface_hub's ``model_index_to_eval_results`` reads::

    model-index:
    - name: <model name>                      # required
      results:                                # required
      - task: {type: <task id>, name?: ...}   # type required
        dataset: {type: <dataset id>, name: <pretty name>, config?, split?, revision?, args?}
        metrics:                              # required
        - {type: <metric id>, value: <number or text>, name?, config?, args?, verified?, verifyToken?}
        source?: {url: <url>, name?: ...}     # a name needs a url

A structure the client cannot read (a missing required key, a string where a mapping is expected) is an
error at its exact path; so is a value JSON cannot store (a NaN metric). The results are flattened one
``EvalResult`` per metric, in document order, like the client does; ``args`` are given in JSON form.
"""

import math
from typing import Any

from registry.cards.checks import Issues, describe
from registry.cards.frontmatter import json_value
from registry.cards.types import EvalResult

FIELD = "model-index"
_URL_PREFIXES = ("http://", "https://")


def read_model_index(metadata: dict, issues: Issues) -> tuple[list | None, list[EvalResult]]:
    """The ``model-index`` as written (``None`` when absent or invalid) and its flattened results."""
    value = metadata.get(FIELD)
    if value is None:
        return None, []
    if not isinstance(value, list):
        issues.error(FIELD, f"must be a list of models, each with a name and results; found {describe(value)}")
        return None, []
    if not value:
        issues.warn(FIELD, "is an empty list; it is ignored")
        return value, []
    results: list[EvalResult] = []
    for index, entry in enumerate(value):
        results.extend(_read_entry(entry, f"{FIELD}[{index}]", issues))
    if issues.count_under(FIELD):
        return None, results
    return value, results


def _is_number(value: Any) -> bool:
    """A finite int or float: what JSON can hold (YAML's .nan and .inf cannot be stored)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _mapping(value: Any, path: str, issues: Issues, *, holding: str) -> dict | None:
    if value is None:
        issues.error(path, f"is missing; give a mapping with {holding}")
        return None
    if not isinstance(value, dict):
        issues.error(path, f"must be a mapping with {holding}; found {describe(value)}")
        return None
    return value


def _required_text(mapping: dict, key: str, path: str, issues: Issues, *, what: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        issues.error(f"{path}.{key}", f"is missing; give {what} (a string)")
        return None
    if not isinstance(value, str):
        issues.error(f"{path}.{key}", f"must be {what} (a string); found {describe(value)}")
        return None
    return value


def _optional_text(mapping: dict, key: str, path: str, issues: Issues, *, scalars: bool = False) -> Any:
    """An optional string; with ``scalars``, numbers are accepted too (YAML reads ``split: 2020`` as one)."""
    value = mapping.get(key)
    if value is None or isinstance(value, str):
        return value
    if scalars and _is_number(value):
        return value
    issues.error(f"{path}.{key}", f"must be a string; found {describe(value)}")
    return None


def _read_entry(entry: Any, path: str, issues: Issues) -> list[EvalResult]:
    entry = _mapping(entry, path, issues, holding="the model's name and its results")
    if entry is None:
        return []
    name = _required_text(entry, "name", path, issues, what="the model's name")
    results = entry.get("results")
    if results is None:
        issues.error(f"{path}.results", "is missing; list the evaluation results of this model")
        return []
    if not isinstance(results, list):
        issues.error(f"{path}.results", f"must be a list of evaluation results; found {describe(results)}")
        return []
    if not results:
        issues.warn(f"{path}.results", "is an empty list; this model reports no results")
    flattened: list[EvalResult] = []
    for index, result in enumerate(results):
        flattened.extend(_read_result(result, f"{path}.results[{index}]", name, issues))
    return flattened


def _read_result(result: Any, path: str, model_name: str | None, issues: Issues) -> list[EvalResult]:
    result = _mapping(result, path, issues, holding="task, dataset and metrics")
    if result is None:
        return []
    errors_before = len(issues.errors)

    task = _mapping(result.get("task"), f"{path}.task", issues, holding="the task's type")
    task_type = task_name = None
    if task is not None:
        task_type = _required_text(task, "type", f"{path}.task", issues, what="the task id, such as text-generation")
        task_name = _optional_text(task, "name", f"{path}.task", issues)

    dataset = _mapping(result.get("dataset"), f"{path}.dataset", issues, holding="the dataset's type and name")
    dataset_fields: dict[str, Any] = {}
    if dataset is not None:
        where = f"{path}.dataset"
        dataset_fields = {
            "dataset_type": _required_text(dataset, "type", where, issues, what="the dataset id, such as ai2_arc"),
            "dataset_name": _required_text(dataset, "name", where, issues, what="the dataset's display name"),
            "dataset_config": _optional_text(dataset, "config", where, issues, scalars=True),
            "dataset_split": _optional_text(dataset, "split", where, issues, scalars=True),
            "dataset_revision": _optional_text(dataset, "revision", where, issues, scalars=True),
            "dataset_args": json_value(dataset.get("args")),
        }

    source_name, source_url = _read_source(result, path, issues)

    metrics = result.get("metrics")
    metric_fields: list[dict[str, Any]] = []
    if metrics is None:
        issues.error(f"{path}.metrics", "is missing; list at least one metric with its type and value")
    elif not isinstance(metrics, list):
        issues.error(f"{path}.metrics", f"must be a list of metrics; found {describe(metrics)}")
    else:
        if not metrics:
            issues.warn(f"{path}.metrics", "is an empty list; this result reports no metric")
        for index, metric in enumerate(metrics):
            fields = _read_metric(metric, f"{path}.metrics[{index}]", issues)
            if fields is not None:
                metric_fields.append(fields)

    if len(issues.errors) > errors_before:
        return []
    return [
        EvalResult(
            task_type=task_type,
            task_name=task_name,
            **dataset_fields,
            **fields,
            source_name=source_name,
            source_url=source_url,
            model_name=model_name,
        )
        for fields in metric_fields
    ]


def _read_source(result: dict, path: str, issues: Issues) -> tuple[str | None, str | None]:
    source = result.get("source")
    if source is None:
        return None, None
    where = f"{path}.source"
    source = _mapping(source, where, issues, holding="the url the results come from, and its name")
    if source is None:
        return None, None
    name = _optional_text(source, "name", where, issues)
    url = source.get("url")
    if url is None:
        if name is not None:
            issues.error(f"{where}.url", "is missing; a source with a name needs the url of the results")
        return name, None
    if not isinstance(url, str) or not url.startswith(_URL_PREFIXES):
        issues.error(f"{where}.url", f"must be an http(s) URL; found {describe(url)}")
        return name, None
    return name, url


def _read_metric(metric: Any, path: str, issues: Issues) -> dict[str, Any] | None:
    metric = _mapping(metric, path, issues, holding="the metric's type and value")
    if metric is None:
        return None
    metric_type = _required_text(metric, "type", path, issues, what="the metric id, such as accuracy")
    value = metric.get("value")
    if value is None:
        issues.error(f"{path}.value", "is missing; every metric needs a value (a number or a string)")
    elif not (_is_number(value) or isinstance(value, str)):
        issues.error(f"{path}.value", f"must be a finite number or a string; found {describe(value)}")
    verified = metric.get("verified")
    if verified is not None and not isinstance(verified, bool):
        issues.error(f"{path}.verified", f"must be true or false; found {describe(verified)}")
    return {
        "metric_type": metric_type,
        "metric_value": value,
        "metric_name": _optional_text(metric, "name", path, issues),
        "metric_config": _optional_text(metric, "config", path, issues),
        "metric_args": json_value(metric.get("args")),
        "verified": verified,
        "verify_token": _optional_text(metric, "verifyToken", path, issues),
    }
