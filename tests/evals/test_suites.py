"""BIG-bench tasks, the shipped suites and suite files."""

import json
import shutil

import pytest
import yaml

from evals.harness.bigbench import bigbench_task_specs
from evals.harness.errors import DatasetPinError, TaskSpecError
from evals.harness.requests import prepare_task
from evals.harness.spec import DataFile
from evals.harness.suite import SUITES_DIR, available_suites, load_suite

INDEX_SHA = "6049f1cff3daf515c25afba8a844babd59cc2b582c352d79aa492646aa7f496f"
INDEX = DataFile("bigbench/tasks.json", INDEX_SHA)


def _prompt(shared_data, name: str, limit: int = 1) -> str:
    (spec,) = bigbench_task_specs(data_root=shared_data, index=INDEX, names=[name])
    return prepare_task(spec, data_root=shared_data, limit=limit, seed=0).items[0]


def test_shipped_suites_load(shared_data):
    assert available_suites() == ["bigbench_mc", "wikitext_ppl"]
    bigbench = load_suite("bigbench_mc", data_root=shared_data)
    assert len(bigbench.tasks) == 12
    assert (bigbench.aggregate.metric, bigbench.aggregate.method) == ("acc", "mean")
    assert all(task.output_type == "multiple_choice" and task.num_fewshot == 0 for task in bigbench.tasks)
    wiki = load_suite(SUITES_DIR / "wikitext_ppl.yaml", data_root=shared_data)
    assert [(t.name, t.split) for t in wiki.tasks] == [("wikitext_test", "test"), ("wikitext_validation", "validation")]
    assert (wiki.aggregate.metric, wiki.aggregate.method) == ("bits_per_byte", "mean")
    assert len({t.content_hash() for t in wiki.tasks}) == 2


def test_bigbench_prompts_follow_each_tasks_format_fields(shared_data):
    item = _prompt(shared_data, "navigate")
    assert item.prompt == (
        "If you follow these instructions, do you return to the starting point?"
        "\nQ: Take 1 step. Take 2 steps. Take 3 steps. Turn around. Take 6 steps. Turn left.\nA: "
    )
    assert [(r.context, r.continuation) for r in item.requests] == [(item.prompt, "True"), (item.prompt, "False")]
    assert item.target == 0

    sports = _prompt(shared_data, "sports_understanding")
    assert sports.prompt == (
        "Determine whether the following statement or statements are plausible or implausible:"
        "\nStatement: Jamal Murray was perfect from the line\nPlausible/implausible? "
    )


def test_listed_choices_appear_in_a_seeded_shuffle_of_the_sorted_choices(shared_data):
    item = _prompt(shared_data, "hindu_knowledge")
    lines = item.prompt.split("\n")
    assert lines[1].startswith("Q: Which of the following Hindu deities")
    listed = [line.removeprefix("  choice: ") for line in lines[2:-1]]
    assert sorted(listed) == sorted(item.choices)
    assert lines[-1] == "A: "
    assert _prompt(shared_data, "hindu_knowledge").prompt == item.prompt


def test_unknown_bigbench_task_is_named(shared_data):
    with pytest.raises(TaskSpecError, match=r"BIG-bench task 'chess' is not in bigbench/tasks\.json"):
        bigbench_task_specs(data_root=shared_data, index=INDEX, names=["chess"])


def test_bigbench_pins_chain_from_the_index_to_each_task_file(shared_data, tmp_path):
    root = tmp_path / "snapshot"
    shutil.copytree(shared_data / "bigbench", root / "bigbench")
    (spec,) = bigbench_task_specs(data_root=root, index=INDEX, names=["snarks"])
    with open(root / "bigbench" / "snarks.jsonl", "a") as handle:
        handle.write('{"id": 999, "input": "x", "choices": ["a", "b"], "gold": 0, "task": "snarks"}\n')
    with pytest.raises(DatasetPinError, match=r"snarks\.jsonl has sha256"):
        prepare_task(spec, data_root=root, limit=1, seed=0)
    index = json.loads((root / "bigbench" / "tasks.json").read_text())
    index["tasks"]["snarks"]["sha256"] = "0" * 64
    (root / "bigbench" / "tasks.json").write_text(json.dumps(index))
    with pytest.raises(DatasetPinError, match=r"tasks\.json has sha256"):
        bigbench_task_specs(data_root=root, index=INDEX, names=["snarks"])


def _write_suite(tmp_path, raw) -> str:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "s", "version": 1}, "missing required suite key: tasks"),
        ({"name": "s", "version": 1, "tasks": [], "colour": 1}, "unknown suite key(s): colour"),
        ({"name": "s", "version": 1, "tasks": []}, "a suite needs at least one task"),
        (
            {"name": "s", "version": 1, "tasks": [{"task": "x"}]},
            "tasks[0] must be a mapping with either 'file' or 'bigbench'",
        ),
        (
            {"name": "s", "version": 1, "tasks": [{"file": "x.yaml", "bigbench": {}}]},
            "tasks[0] must be a mapping with either 'file' or 'bigbench'",
        ),
        ({"name": "s", "version": 1, "tasks": [{"file": "nope.yaml"}]}, "nope.yaml: cannot read"),
        (
            {"name": "s", "version": 1, "aggregate": {"metric": "acc", "method": "median"}, "tasks": []},
            "aggregate.method must be one of mean, weighted_mean",
        ),
    ],
)
def test_malformed_suites_are_rejected(tmp_path, shared_data, raw, message):
    with pytest.raises(TaskSpecError) as error:
        load_suite(_write_suite(tmp_path, raw), data_root=shared_data)
    assert message in str(error.value)


def test_suite_checks_its_aggregate_and_task_names(tmp_path, shared_data):
    task = str(SUITES_DIR / "tasks" / "wikitext.yaml")
    twice = {"name": "s", "version": 1, "tasks": [{"file": task}, {"file": task}]}
    with pytest.raises(TaskSpecError, match="task names must be unique, repeated: wikitext_test"):
        load_suite(_write_suite(tmp_path, twice), data_root=shared_data)
    wrong_metric = {
        "name": "s",
        "version": 1,
        "aggregate": {"metric": "acc", "method": "mean"},
        "tasks": [{"file": task}],
    }
    with pytest.raises(TaskSpecError, match="aggregate metric 'acc' is not reported by wikitext_test"):
        load_suite(_write_suite(tmp_path, wrong_metric), data_root=shared_data)


def test_a_task_file_is_a_suite_of_one_and_unknown_names_list_the_shipped_suites(shared_data):
    suite = load_suite(SUITES_DIR / "tasks" / "wikitext.yaml", data_root=shared_data)
    assert ([t.name for t in suite.tasks], suite.aggregate) == (["wikitext_test"], None)
    with pytest.raises(
        TaskSpecError, match=r"no suite named 'mmlu' and no such file \(shipped suites: bigbench_mc, wikitext_ppl\)"
    ):
        load_suite("mmlu", data_root=shared_data)
