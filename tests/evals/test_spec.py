"""Task specs: loading, validation errors that name the problem, and the content hash."""

import copy

import pytest
import yaml

from evals.harness.errors import TaskSpecError
from evals.harness.spec import SCORING_VERSION, load_task_spec, task_spec_from_dict

SHA = "ab" * 32

BASE = {
    "name": "toy_mc",
    "version": 1,
    "dataset": {"format": "jsonl", "id_field": "id", "splits": {"test": {"path": "toy/test.jsonl", "sha256": SHA}}},
    "split": "test",
    "output_type": "multiple_choice",
    "doc_to_text": "Q: {{ question }}\nA:",
    "doc_to_target": "{{ gold }}",
    "doc_to_choice": "{{ choices }}",
}


def _with(**changes):
    raw = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    return raw


def test_yaml_file_loads_with_defaults_filled_in(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(BASE))
    spec = load_task_spec(path)
    assert spec.name == "toy_mc"
    assert spec.target_delimiter == " "
    assert spec.fewshot_delimiter == "\n\n"
    assert spec.num_fewshot == 0
    assert [metric.name for metric in spec.metrics] == ["acc", "acc_norm"]
    assert spec.dataset.splits["test"].sha256 == SHA
    assert spec.to_dict()["doc_to_choice"] == "{{ choices }}"


def test_generate_until_gets_default_generation_settings():
    spec = task_spec_from_dict(
        _with(
            output_type="generate_until",
            doc_to_choice=None,
            filters=["strip", {"function": "regex", "pattern": r"(\d+)"}],
        ),
        source="t",
    )
    assert spec.generation is not None
    assert spec.generation.until == ("\n\n",)
    assert spec.generation.max_gen_toks == 256
    assert [step.function for step in spec.filters] == ["strip", "regex"]
    assert [metric.name for metric in spec.metrics] == ["exact_match"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_with(colour="blue"), "unknown key(s) in task: colour"),
        (_with(split=None), "missing required key(s) in task: split"),
        (_with(version="1"), "version must be of type int, got str ('1')"),
        (_with(version=True), "version must be of type int, got bool (True)"),
        (_with(output_type="ranking"), "output_type must be one of multiple_choice, loglikelihood,"),
        (_with(split="train"), "split 'train' is not among dataset.splits (test)"),
        (_with(doc_to_text="Q: {{ question }"), "doc_to_text: template syntax error on line 1"),
        (_with(metrics=["bleu"]), "metric 'bleu' is not available for multiple_choice (use acc, acc_norm)"),
        (_with(metrics=["acc", "acc"]), "metrics are listed twice"),
        (_with(doc_to_choice=None), "multiple_choice tasks need doc_to_choice"),
        (_with(num_fewshot=-1), "num_fewshot must be >= 0, got -1"),
        (_with(filters=["strip"]), "generation and filters apply to generate_until tasks only"),
        (_with(filters=[{"function": "regex"}], output_type="generate_until"), "the regex filter needs a pattern"),
        (
            _with(dataset={"format": "csv", "splits": {"test": {"path": "a", "sha256": SHA}}}),
            "dataset.format must be one of",
        ),
        (_with(dataset={"format": "jsonl", "splits": {"test": {"path": "a", "sha256": "abc"}}}), "sha256 must be 64"),
        (_with(dataset={"format": "jsonl", "splits": {"test": {"path": "../a", "sha256": SHA}}}), "without '..'"),
        (_with(dataset={"format": "jsonl", "splits": {"test": {"path": "a"}}}), "missing required key(s) in dataset"),
    ],
)
def test_malformed_specs_are_rejected_with_the_reason(raw, message):
    with pytest.raises(TaskSpecError) as error:
        task_spec_from_dict(raw, source="tasks/toy.yaml")
    assert str(error.value).startswith("tasks/toy.yaml: ")
    assert message in str(error.value)


def test_invalid_yaml_and_non_mapping_files_name_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(TaskSpecError, match=r"broken\.yaml: invalid YAML"):
        load_task_spec(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(TaskSpecError, match=r"list\.yaml: the top level must be a mapping"):
        load_task_spec(listing)
    with pytest.raises(TaskSpecError, match=r"missing\.yaml: cannot read"):
        load_task_spec(tmp_path / "missing.yaml")


def test_content_hash_is_stable_and_covers_templates_data_and_settings():
    spec = task_spec_from_dict(BASE, source="t")
    same = task_spec_from_dict(copy.deepcopy(BASE), source="other place")
    assert spec.content_hash() == same.content_hash()
    assert len(spec.content_hash()) == 64

    changed = [
        _with(doc_to_text="Question: {{ question }}\nA:"),
        _with(doc_to_choice="{{ choices | reverse | list }}"),
        _with(description="Answer the question.\n\n"),
        _with(target_delimiter=""),
        _with(num_fewshot=2),
        _with(metrics=["acc"]),
        _with(version=2),
        _with(dataset={**BASE["dataset"], "splits": {"test": {"path": "toy/test.jsonl", "sha256": "cd" * 32}}}),
    ]
    hashes = {task_spec_from_dict(raw, source="t").content_hash() for raw in changed}
    assert len(hashes) == len(changed)
    assert spec.content_hash() not in hashes


def test_scoring_version_is_part_of_the_hash(monkeypatch):
    from evals.harness import spec as spec_module

    spec = task_spec_from_dict(BASE, source="t")
    before = spec.content_hash()
    monkeypatch.setattr(spec_module, "SCORING_VERSION", SCORING_VERSION + 1)
    assert spec.content_hash() != before


def test_overrides_are_validated_like_a_file():
    spec = task_spec_from_dict(BASE, source="t")
    other = spec.with_overrides({"name": "toy_mc_2", "num_fewshot": 3}, source="suite.yaml")
    assert (other.name, other.num_fewshot) == ("toy_mc_2", 3)
    assert other.doc_to_text == spec.doc_to_text
    with pytest.raises(TaskSpecError, match=r"suite\.yaml: split 'dev' is not among dataset\.splits"):
        spec.with_overrides({"split": "dev"}, source="suite.yaml")
