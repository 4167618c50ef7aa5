"""Exporting a task for lm-evaluation-harness (the run itself is in test_parity_lm_eval)."""

import json

import pytest
import yaml

from evals.harness.errors import EvalError
from evals.harness.lm_eval_export import export_task, write_config
from evals.harness.suite import load_suite


def test_export_writes_the_split_and_a_config_with_our_templates(shared_data, tmp_path):
    spec = next(t for t in load_suite("bigbench_mc", data_root=shared_data).tasks if t.name == "bigbench_navigate")
    config = export_task(spec, data_root=shared_data, out_dir=tmp_path, name="x_navigate", limit=5)
    docs = [json.loads(line) for line in (tmp_path / "x_navigate.jsonl").read_text().splitlines()]
    assert [doc["id"] for doc in docs] == [0, 1, 2, 3, 4]
    assert config == {
        "task": "x_navigate",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(tmp_path / "x_navigate.jsonl")}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": spec.doc_to_text,
        "doc_to_target": "{{ gold }}",
        "description": "If you follow these instructions, do you return to the starting point?",
        "target_delimiter": "",
        "fewshot_delimiter": "\n",
        "num_fewshot": 0,
        "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}],
        "doc_to_choice": "{{ choices }}",
    }
    assert yaml.safe_load(write_config(config, tmp_path / "configs").read_text()) == config
    with pytest.raises(EvalError, match="only zero-shot tasks can be compared with lm-eval"):
        export_task(spec.with_overrides({"num_fewshot": 1}, source="t"), data_root=shared_data, out_dir=tmp_path)
