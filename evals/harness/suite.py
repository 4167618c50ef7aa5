"""Suites: named groups of tasks with a declared aggregation.

A suite file (``evals/suites/<name>.yaml``)::

    name: wikitext_ppl
    version: 1
    description: Rolling perplexity on the WikiText-style Wikipedia corpus.
    aggregate: {metric: bits_per_byte, method: mean}   # optional; mean | weighted_mean
    tasks:
      - file: tasks/wikitext.yaml                        # a task file, relative to this file
      - file: tasks/wikitext.yaml
        overrides: {name: wikitext_validation, split: validation}
      - bigbench:                                        # BIG-bench tasks from a pinned index
          index: {path: bigbench/tasks.json, sha256: 6049f1cf...}
          tasks: [navigate, snarks]
          num_fewshot: 0                                 # optional
          version: 1                                     # optional

Wherever a suite is expected, a single task file also works (a suite of one, no aggregate).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.harness.bigbench import bigbench_task_specs
from evals.harness.errors import TaskSpecError
from evals.harness.hashing import sha256_json
from evals.harness.spec import DataFile, TaskSpec, load_task_spec, read_yaml_mapping, task_spec_from_dict

SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"
AGGREGATION_METHODS = ("mean", "weighted_mean")


@dataclass(frozen=True)
class SuiteAggregate:
    """One headline number: ``metric`` over the tasks, each task once (``mean``) or by size."""

    metric: str
    method: str

    def __post_init__(self) -> None:
        if self.method not in AGGREGATION_METHODS:
            raise TaskSpecError(
                f"aggregate.method must be one of {', '.join(AGGREGATION_METHODS)}, got {self.method!r}"
            )


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    description: str
    tasks: tuple[TaskSpec, ...]
    aggregate: SuiteAggregate | None
    source: str

    def __post_init__(self) -> None:
        names = [task.name for task in self.tasks]
        if not names:
            raise TaskSpecError(f"{self.source}: a suite needs at least one task")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise TaskSpecError(f"{self.source}: task names must be unique, repeated: {', '.join(duplicates)}")
        if self.aggregate is not None:
            lacking = [t.name for t in self.tasks if self.aggregate.metric not in {m.name for m in t.metrics}]
            if lacking:
                raise TaskSpecError(
                    f"{self.source}: aggregate metric {self.aggregate.metric!r} is not reported by {', '.join(lacking)}"
                )

    def content_hash(self) -> str:
        """sha256 over the suite's identity, aggregation and the content hash of every task."""
        aggregate = (
            None if self.aggregate is None else {"metric": self.aggregate.metric, "method": self.aggregate.method}
        )
        return sha256_json(
            {
                "name": self.name,
                "version": self.version,
                "aggregate": aggregate,
                "tasks": [task.content_hash() for task in self.tasks],
            }
        )


def available_suites() -> list[str]:
    """Names of the suites shipped in ``evals/suites``."""
    return sorted(path.stem for path in SUITES_DIR.glob("*.yaml"))


def resolve_suite_path(ref: str | Path) -> Path:
    """A suite name (shipped suite) or the path of a suite or task file."""
    path = Path(ref)
    if path.is_file():
        return path
    shipped = SUITES_DIR / f"{ref}.yaml"
    if isinstance(ref, str) and "/" not in ref and shipped.is_file():
        return shipped
    raise TaskSpecError(
        f"no suite named {str(ref)!r} and no such file (shipped suites: {', '.join(available_suites())})"
    )


def load_suite(ref: str | Path, *, data_root: Path) -> Suite:
    """Load a suite (or a single task file) and every task it names; checks pins it needs to read."""
    path = resolve_suite_path(ref)
    raw = read_yaml_mapping(path)
    if "output_type" in raw:
        task = task_spec_from_dict(raw, source=str(path))
        return Suite(task.name, task.version, "", (task,), None, str(path))
    try:
        return _build_suite(raw, path=path, data_root=data_root)
    except TaskSpecError as exc:
        message = str(exc)
        raise TaskSpecError(message if message.startswith(str(path)) else f"{path}: {message}") from None


_SUITE_KEYS = {"name", "version", "description", "aggregate", "tasks"}


def _build_suite(raw: Mapping[str, Any], *, path: Path, data_root: Path) -> Suite:
    unknown = sorted(set(raw) - _SUITE_KEYS)
    if unknown:
        raise TaskSpecError(f"unknown suite key(s): {', '.join(unknown)} (allowed: {', '.join(sorted(_SUITE_KEYS))})")
    for key in ("name", "version", "tasks"):
        if key not in raw:
            raise TaskSpecError(f"missing required suite key: {key}")
    name, version, entries = raw["name"], raw["version"], raw["tasks"]
    if not isinstance(name, str) or not isinstance(version, int) or isinstance(version, bool):
        raise TaskSpecError("suite name must be a string and version an integer")
    if not isinstance(entries, list):
        raise TaskSpecError("tasks must be a list of entries")
    tasks: list[TaskSpec] = []
    for position, entry in enumerate(entries):
        tasks.extend(_entry_tasks(entry, position=position, base=path.parent, data_root=data_root))
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise TaskSpecError("description must be a string")
    return Suite(name, version, description, tuple(tasks), _aggregate(raw.get("aggregate")), str(path))


def _entry_tasks(entry: Any, *, position: int, base: Path, data_root: Path) -> list[TaskSpec]:
    where = f"tasks[{position}]"
    if not isinstance(entry, dict) or len({"file", "bigbench"} & set(entry)) != 1:
        raise TaskSpecError(f"{where} must be a mapping with either 'file' or 'bigbench'")
    if "file" in entry:
        unknown = sorted(set(entry) - {"file", "overrides"})
        if unknown:
            raise TaskSpecError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: file, overrides)")
        task_path = base / str(entry["file"])
        task = load_task_spec(task_path)
        overrides = entry.get("overrides") or {}
        if not isinstance(overrides, dict):
            raise TaskSpecError(f"{where}: overrides must be a mapping")
        return (
            [task.with_overrides(overrides, source=f"{task_path} (with overrides from {where})")]
            if overrides
            else [task]
        )
    return _bigbench_tasks(entry["bigbench"], where=f"{where}.bigbench", data_root=data_root)


def _bigbench_tasks(raw: Any, *, where: str, data_root: Path) -> list[TaskSpec]:
    if not isinstance(raw, dict):
        raise TaskSpecError(f"{where} must be a mapping")
    unknown = sorted(set(raw) - {"index", "tasks", "num_fewshot", "version"})
    if unknown:
        raise TaskSpecError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: index, tasks, num_fewshot, version)"
        )
    index, names = raw.get("index"), raw.get("tasks")
    if not isinstance(index, dict) or set(index) != {"path", "sha256"}:
        raise TaskSpecError(f"{where}.index must be a mapping with path and sha256")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise TaskSpecError(f"{where}.tasks must be a non-empty list of task names")
    num_fewshot, version = raw.get("num_fewshot", 0), raw.get("version", 1)
    for key, value in (("num_fewshot", num_fewshot), ("version", version)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TaskSpecError(f"{where}.{key} must be an integer")
    pinned = DataFile(path=str(index["path"]), sha256=str(index["sha256"]))
    return bigbench_task_specs(data_root=data_root, index=pinned, names=names, num_fewshot=num_fewshot, version=version)


def _aggregate(raw: Any) -> SuiteAggregate | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"metric", "method"}:
        raise TaskSpecError("aggregate must be a mapping with metric and method")
    return SuiteAggregate(metric=str(raw["metric"]), method=str(raw["method"]))
