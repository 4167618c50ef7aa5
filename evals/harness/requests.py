"""Turning a task's documents into model requests (everything up to, not including, the model).

Preparing a task reads and checks its data, renders every prompt and builds every request, so a
broken template or a dataset that does not match its pin fails here, before any model is loaded.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.harness import templates
from evals.harness.data import Item, load_split
from evals.harness.errors import EvalError
from evals.harness.fewshot import build_context, sample_shots
from evals.harness.spec import TaskSpec


@dataclass(frozen=True)
class Request:
    """One call to the model.

    ``loglikelihood``: score ``continuation`` after ``context``. ``loglikelihood_rolling``: score
    the whole of ``continuation`` (the document). ``generate_until``: greedy continuation of
    ``context`` up to a stop string or ``max_gen_toks`` tokens.
    """

    type: str
    context: str
    continuation: str = ""
    until: tuple[str, ...] = ()
    max_gen_toks: int = 0

    def to_log(self) -> dict[str, Any]:
        if self.type == "loglikelihood":
            return {"type": self.type, "context": self.context, "continuation": self.continuation}
        if self.type == "loglikelihood_rolling":
            return {"type": self.type, "text": self.continuation}
        return {
            "type": self.type,
            "context": self.context,
            "until": list(self.until),
            "max_gen_toks": self.max_gen_toks,
        }


@dataclass(frozen=True)
class PreparedItem:
    """An item with its rendered prompt, its target and the requests it needs."""

    id: int | str
    doc: Mapping[str, Any]
    prompt: str
    target: int | str
    choices: list[str] | None
    fewshot_ids: list[int | str]
    requests: list[Request]


@dataclass(frozen=True)
class PreparedTask:
    spec: TaskSpec
    task_hash: str
    items: list[PreparedItem]
    n_available: int


def prepare_task(spec: TaskSpec, *, data_root: Path, limit: int | None, seed: int) -> PreparedTask:
    """Load the task's split (first ``limit`` items) and build all prompts and requests."""
    if limit is not None and limit < 1:
        raise EvalError(f"limit must be >= 1, got {limit}")
    task_hash = spec.content_hash()
    items = load_split(data_root, spec.dataset, spec.split)
    pool = items
    if spec.num_fewshot and spec.fewshot_split is not None and spec.fewshot_split != spec.split:
        pool = load_split(data_root, spec.dataset, spec.fewshot_split)
    selected = items if limit is None else items[:limit]
    prepared = [_prepare_item(spec, item, pool=pool, task_hash=task_hash, seed=seed) for item in selected]
    return PreparedTask(spec=spec, task_hash=task_hash, items=prepared, n_available=len(items))


def _prepare_item(spec: TaskSpec, item: Item, *, pool: list[Item], task_hash: str, seed: int) -> PreparedItem:
    choices = templates.render_choices(spec.doc_to_choice, item.doc) if spec.doc_to_choice is not None else None
    target = templates.render_target(spec.doc_to_target, item.doc, choices)
    if spec.output_type == "loglikelihood_rolling":
        request = Request("loglikelihood_rolling", context="", continuation=_answer_text(target, choices))
        return PreparedItem(item.id, item.doc, "", target, choices, [], [request])

    shots = sample_shots(pool, k=spec.num_fewshot, task_hash=task_hash, item_id=item.id, seed=seed)
    prompt = build_context(
        description=templates.render(spec.description, item.doc, label="description"),
        shots=[_shot(spec, shot) for shot in shots],
        text=templates.render(spec.doc_to_text, item.doc, label="doc_to_text"),
        target_delimiter=spec.target_delimiter,
        fewshot_delimiter=spec.fewshot_delimiter,
    )
    if spec.output_type == "multiple_choice":
        assert choices is not None  # checked by TaskSpec
        requests = [Request("loglikelihood", prompt, spec.target_delimiter + choice) for choice in choices]
    elif spec.output_type == "loglikelihood":
        # As in lm-evaluation-harness, the target is scored as written: a task that wants a
        # delimiter in front of it puts it in doc_to_target.
        requests = [Request("loglikelihood", prompt, _answer_text(target, choices))]
    else:
        generation = spec.generation
        assert generation is not None  # filled in by TaskSpec
        requests = [Request("generate_until", prompt, until=generation.until, max_gen_toks=generation.max_gen_toks)]
    return PreparedItem(item.id, item.doc, prompt, target, choices, [shot.id for shot in shots], requests)


def _shot(spec: TaskSpec, shot: Item) -> tuple[str, str]:
    choices = templates.render_choices(spec.doc_to_choice, shot.doc) if spec.doc_to_choice is not None else None
    answer = _answer_text(templates.render_target(spec.doc_to_target, shot.doc, choices), choices)
    return templates.render(spec.doc_to_text, shot.doc, label="doc_to_text"), answer


def _answer_text(target: int | str, choices: list[str] | None) -> str:
    if isinstance(target, int):
        assert choices is not None  # render_target returns an index only with choices
        return choices[target]
    return target
