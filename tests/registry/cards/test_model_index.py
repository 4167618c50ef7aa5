"""``model-index``: its structure is checked path by path and flattened into evaluation results."""

# The case tables keep one case per line (input, path, exact message) so each reads at a glance;
# the messages are long, so E501 gives way to that here.
# ruff: noqa: E501

import textwrap

import pytest

from registry.cards import CardIssue, EvalResult, card_parse
from tests.registry.cards.card_texts import TWO_MODELS_CARD


def model_index_card(yaml_text: str):
    return card_parse(f"---\n{textwrap.dedent(yaml_text).strip()}\n---\n", repo_type="model")


def one_result(**overrides) -> str:
    """A model-index with one result, in which ``overrides`` replace parts (``None`` drops a part)."""
    parts = {
        "task": "{type: text-generation}",
        "dataset": "{type: ai2_arc, name: ARC}",
        "metrics": "[{type: acc, value: 0.5}]",
    }
    parts.update(overrides)
    lines = [f"    {key}: {value}" for key, value in parts.items() if value is not None]
    return "model-index:\n- name: m\n  results:\n  -\n" + "\n".join(lines)


def test_results_of_every_model_are_flattened_in_document_order():
    card = card_parse(TWO_MODELS_CARD, repo_type="model")
    assert (card.errors, card.warnings) == ([], [])
    assert card.model_index == card.metadata["model-index"]
    arc = {  # what both metrics of the first result share
        "task_type": "text-generation",
        "dataset_type": "ai2_arc",
        "dataset_name": "ARC",
        "dataset_config": "ARC-Challenge",
        "dataset_split": "test",
        "dataset_revision": 5503434,  # YAML reads an all-digit revision as a number; kept as written
        "model_name": "base",
    }
    assert card.eval_results == [
        EvalResult(**arc, metric_type="acc", metric_value=0.61, verified=False),
        EvalResult(
            **arc,
            metric_type="acc_norm",
            metric_value="64.5 ± 1.2",
            metric_name="Normalized accuracy",
            metric_config="strict",
            metric_args={"shots": 25},
        ),
        EvalResult(
            task_type="fill-mask",
            task_name="Fill-Mask",
            dataset_type="org/cloze",
            dataset_name="Cloze",
            dataset_args={"language": "en"},
            metric_type="accuracy",
            metric_value=90,
            verify_token="abc.def",
            source_url="https://example.org/board",
            model_name="base",
        ),
        EvalResult(
            task_type="text-generation",
            dataset_type="gsm8k",
            dataset_name="GSM8K",
            metric_type="exact_match",
            metric_value=0.42,
            source_name="Board",
            source_url="https://example.org/board",
            model_name="chat",
        ),
    ]


def test_unknown_keys_inside_model_index_are_kept():
    card = model_index_card(one_result(extra="{note: self-reported}"))
    assert card.errors == []
    assert card.metadata["model-index"][0]["results"][0]["extra"] == {"note": "self-reported"}


def test_empty_model_index_is_ignored_with_a_warning():
    card = model_index_card("model-index: []")
    assert card.errors == []
    assert card.warnings == [CardIssue("model-index", "is an empty list; it is ignored")]
    assert (card.model_index, card.eval_results) == ([], [])


@pytest.mark.parametrize(
    ("yaml_text", "warning"),
    [
        ("model-index:\n- name: m\n  results: []", CardIssue("model-index[0].results", "is an empty list; this model reports no results")),
        (one_result(metrics="[]"), CardIssue("model-index[0].results[0].metrics", "is an empty list; this result reports no metric")),
    ],
)  # fmt: skip
def test_empty_results_or_metrics_are_warnings(yaml_text, warning):
    card = model_index_card(yaml_text)
    assert (card.errors, card.warnings, card.eval_results) == ([], [warning], [])


R = "model-index[0].results[0]"

INVALID_MODEL_INDEXES = [
    ("model-index: foo", "model-index", 'must be a list of models, each with a name and results; found the string "foo"'),
    ("model-index: {name: m}", "model-index", "must be a list of models, each with a name and results; found a mapping"),
    ("model-index: [foo]", "model-index[0]", "must be a mapping with the model's name and its results; found the string \"foo\""),
    ("model-index:\n- results: []", "model-index[0].name", "is missing; give the model's name (a string)"),
    ("model-index:\n- {name: [a], results: []}", "model-index[0].name", "must be the model's name (a string); found a list"),
    ("model-index:\n- name: m", "model-index[0].results", "is missing; list the evaluation results of this model"),
    ("model-index:\n- {name: m, results: {task: x}}", "model-index[0].results", "must be a list of evaluation results; found a mapping"),
    ("model-index:\n- {name: m, results: [3]}", R, "must be a mapping with task, dataset and metrics; found the number 3"),
    (one_result(task=None), f"{R}.task", "is missing; give a mapping with the task's type"),
    (one_result(task="text-generation"), f"{R}.task", 'must be a mapping with the task\'s type; found the string "text-generation"'),
    (one_result(task="{name: Text Generation}"), f"{R}.task.type", "is missing; give the task id, such as text-generation (a string)"),
    (one_result(task="{type: text-generation, name: [x]}"), f"{R}.task.name", "must be a string; found a list"),
    (one_result(dataset=None), f"{R}.dataset", "is missing; give a mapping with the dataset's type and name"),
    (one_result(dataset="{type: ai2_arc}"), f"{R}.dataset.name", "is missing; give the dataset's display name (a string)"),
    (one_result(dataset="{type: 7, name: ARC}"), f"{R}.dataset.type", "must be the dataset id, such as ai2_arc (a string); found the number 7"),
    (one_result(dataset="{type: ai2_arc, name: ARC, split: [test]}"), f"{R}.dataset.split", "must be a string; found a list"),
    (one_result(dataset="{type: ai2_arc, name: ARC, config: true}"), f"{R}.dataset.config", "must be a string; found true"),
    (one_result(metrics=None), f"{R}.metrics", "is missing; list at least one metric with its type and value"),
    (one_result(metrics="{type: acc, value: 1}"), f"{R}.metrics", "must be a list of metrics; found a mapping"),
    (one_result(metrics="[acc]"), f"{R}.metrics[0]", 'must be a mapping with the metric\'s type and value; found the string "acc"'),
    (one_result(metrics="[{value: 0.5}]"), f"{R}.metrics[0].type", "is missing; give the metric id, such as accuracy (a string)"),
    (one_result(metrics="[{type: acc}]"), f"{R}.metrics[0].value", "is missing; every metric needs a value (a number or a string)"),
    (one_result(metrics="[{type: acc, value: [1, 2]}]"), f"{R}.metrics[0].value", "must be a finite number or a string; found a list"),
    (one_result(metrics="[{type: acc, value: true}]"), f"{R}.metrics[0].value", "must be a finite number or a string; found true"),
    (one_result(metrics="[{type: acc, value: .nan}]"), f"{R}.metrics[0].value", "must be a finite number or a string; found the number nan"),
    (one_result(metrics="[{type: acc, value: 2024-01-01}]"), f"{R}.metrics[0].value", "must be a finite number or a string; found the date 2024-01-01"),
    (one_result(dataset="{type: ai2_arc, name: ARC, split: .inf}"), f"{R}.dataset.split", "must be a string; found the number inf"),
    (one_result(metrics="[{type: acc, value: 1, verified: 'yes'}]"), f"{R}.metrics[0].verified", 'must be true or false; found the string "yes"'),
    (one_result(metrics="[{type: acc, value: 1, name: 5}]"), f"{R}.metrics[0].name", "must be a string; found the number 5"),
    (one_result(metrics="[{type: acc, value: 1, verifyToken: 5}]"), f"{R}.metrics[0].verifyToken", "must be a string; found the number 5"),
    (one_result(source="https://example.org"), f"{R}.source", 'must be a mapping with the url the results come from, and its name; found the string "https://example.org"'),
    (one_result(source="{name: Board}"), f"{R}.source.url", "is missing; a source with a name needs the url of the results"),
    (one_result(source="{url: example.org}"), f"{R}.source.url", 'must be an http(s) URL; found the string "example.org"'),
]  # fmt: skip


@pytest.mark.parametrize(("yaml_text", "field", "message"), INVALID_MODEL_INDEXES)
def test_malformed_model_index_is_refused_at_its_exact_path(yaml_text, field, message):
    card = model_index_card(yaml_text)
    assert card.errors == [CardIssue(field, message)]
    assert card.model_index is None
    assert card.eval_results == []


def test_error_path_names_the_second_result_and_valid_results_are_still_flattened():
    card = model_index_card(
        """
        model-index:
        - name: m
          results:
          - task: {type: text-generation}
            dataset: {type: ai2_arc, name: ARC}
            metrics: [{type: acc, value: 0.5}]
          - task: {type: text-generation}
            dataset: {type: gsm8k, name: GSM8K}
            metrics: [{type: exact_match}]
        """
    )
    assert card.errors == [
        CardIssue(
            "model-index[0].results[1].metrics[0].value",
            "is missing; every metric needs a value (a number or a string)",
        )
    ]
    assert card.model_index is None
    assert [result.dataset_type for result in card.eval_results] == ["ai2_arc"]


def test_args_are_given_in_json_form():
    card = model_index_card(one_result(dataset="{type: d, name: D, args: {date: 2024-01-31}}"))
    assert card.errors == []
    assert card.eval_results[0].dataset_args == {"date": "2024-01-31"}


def test_every_problem_of_a_result_is_reported():
    card = model_index_card(one_result(task="{}", dataset="{type: ai2_arc}", metrics="[{type: acc}, {value: 1}]"))
    assert card.errors == [
        CardIssue(f"{R}.task.type", "is missing; give the task id, such as text-generation (a string)"),
        CardIssue(f"{R}.dataset.name", "is missing; give the dataset's display name (a string)"),
        CardIssue(f"{R}.metrics[0].value", "is missing; every metric needs a value (a number or a string)"),
        CardIssue(f"{R}.metrics[1].type", "is missing; give the metric id, such as accuracy (a string)"),
    ]
