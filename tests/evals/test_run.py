"""run_suite end to end: outputs, fingerprint, determinism, early failures, comparing runs, the CLI."""

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from evals.harness.compare import compare_runs
from evals.harness.errors import DatasetPinError, EvalError, ModelLoadError, TaskSpecError
from evals.harness.hashing import sha256_file, sha256_json
from evals.harness.outputs import read_samples
from evals.harness.run import run_suite
from evals.harness.suite import SUITES_DIR

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _suite_file(tmp_path: Path, *, wiki_target: str = "{{ text }}") -> Path:
    """Two BIG-bench tasks plus the validation wiki split, with a task-level override."""
    raw = yaml.safe_load((SUITES_DIR / "bigbench_mc.yaml").read_text())
    raw["name"] = "small"
    raw["tasks"][0]["bigbench"]["tasks"] = ["navigate", "snarks"]
    raw["tasks"].append(
        {
            "file": str(SUITES_DIR / "tasks" / "wikitext.yaml"),
            "overrides": {"name": "wiki_validation", "split": "validation", "doc_to_target": wiki_target},
        }
    )
    raw.pop("aggregate")
    path = tmp_path / f"small{len(wiki_target)}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_results_json_records_everything_the_fingerprint_covers(llama_dir, shared_data, tmp_path):
    events = []
    run = run_suite(
        model_dir=llama_dir,
        suite="bigbench_mc",
        output_dir=tmp_path / "out",
        data_dir=shared_data,
        limit=4,
        batch_size=4,
        progress=events.append,
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results == json.loads(json.dumps(run.results))
    assert len(results["tasks"]) == 12
    navigate = results["tasks"]["bigbench_navigate"]
    assert (navigate["n"], navigate["n_available"], navigate["split"], navigate["num_fewshot"]) == (4, 1000, "test", 0)
    assert set(navigate["metrics"]) == {"acc", "acc_norm"}
    assert set(navigate["metrics"]["acc"]) == {"value", "stderr", "ci95", "n"}
    assert navigate["data_sha256"] == {"test": "fb97001109cc8bbf7a2e7e8324dbcbdbc49279fc1b3417d139ef54d3b3906bd6"}
    aggregate = results["suite"]["aggregate"]
    assert (aggregate["metric"], aggregate["method"], aggregate["n"]) == ("acc", "mean", 48)
    values = [task["metrics"]["acc"]["value"] for task in results["tasks"].values()]
    assert aggregate["value"] == pytest.approx(sum(values) / 12, rel=1e-12)
    assert results["model"]["files"] == {p.name: sha256_file(p) for p in sorted(Path(llama_dir).iterdir())}
    assert results["model"]["adapter"] == "transformers"
    assert results["environment"]["libraries"]["torch"] == metadata.version("torch")
    assert results["environment"]["device"]["type"] == "cpu"
    assert results["config"]["seed"] == results["seeds"]["seed"] == 1234
    expected = sha256_json(
        {
            "harness": results["harness"],
            "suite_hash": results["suite"]["hash"],
            "task_hashes": {name: task["task_hash"] for name, task in results["tasks"].items()},
            "model_files": results["model"]["files"],
            "config": results["config"],
            "libraries": results["environment"]["libraries"],
            "device": results["environment"]["device"],
        }
    )
    assert results["fingerprint"] == expected

    records = read_samples(tmp_path / "out", "bigbench_navigate")
    assert [record["item_id"] for record in records] == [0, 1, 2, 3]
    first = records[0]
    assert set(first) == {
        "task",
        "item_id",
        "doc",
        "prompt",
        "fewshot_ids",
        "target",
        "requests",
        "responses",
        "metrics",
    }
    assert first["requests"] == [
        {"type": "loglikelihood", "context": first["prompt"], "continuation": choice}
        for choice in first["doc"]["choices"]
    ]
    lls = [response["logprob"] for response in first["responses"]]
    assert first["metrics"]["acc"] == float(max(range(len(lls)), key=lambda j: (lls[j], -j)) == first["target"])

    stages = [event.stage for event in events]
    assert stages[0] == "prepare"
    assert stages.index("load_model") > max(i for i, stage in enumerate(stages) if stage == "prepare")
    assert stages[-1] == "done"
    assert [e.done for e in events if e.stage == "task_done"] == list(range(1, 13))
    # Each finished task reports its summaries as soon as it is scored, as the results record them.
    assert {e.task: e.metrics for e in events if e.stage == "task_done"} == {
        name: task["metrics"] for name, task in results["tasks"].items()
    }


def test_same_fingerprint_gives_identical_samples_and_a_template_change_changes_the_hash(
    llama_dir, shared_data, tmp_path
):
    suite = _suite_file(tmp_path)
    first = run_suite(model_dir=llama_dir, suite=suite, output_dir=tmp_path / "a", data_dir=shared_data, limit=3)
    second = run_suite(model_dir=llama_dir, suite=suite, output_dir=tmp_path / "b", data_dir=shared_data, limit=3)
    assert first.results["fingerprint"] == second.results["fingerprint"]
    for task in ("bigbench_navigate", "bigbench_snarks", "wiki_validation"):
        a = (tmp_path / "a" / f"samples_{task}.jsonl").read_bytes()
        assert a == (tmp_path / "b" / f"samples_{task}.jsonl").read_bytes()
        assert first.results["tasks"][task]["samples_sha256"] == second.results["tasks"][task]["samples_sha256"]

    changed = run_suite(
        model_dir=llama_dir, suite=_suite_file(tmp_path, wiki_target="{{ text }}\n"), data_dir=shared_data, limit=3
    )
    old, new = first.results["tasks"], changed.results["tasks"]
    assert new["wiki_validation"]["task_hash"] != old["wiki_validation"]["task_hash"]
    assert new["bigbench_snarks"]["task_hash"] == old["bigbench_snarks"]["task_hash"]
    assert changed.results["fingerprint"] != first.results["fingerprint"]
    scored_before = first.samples["wiki_validation"][0]["requests"][0]["text"]
    assert changed.samples["wiki_validation"][0]["requests"][0]["text"] == scored_before + "\n"
    other_seed = run_suite(model_dir=llama_dir, suite=suite, data_dir=shared_data, limit=3, seed=5)
    assert other_seed.results["fingerprint"] != first.results["fingerprint"]


def test_user_errors_fail_before_any_model_is_loaded(shared_data, tmp_path):
    absent_model = tmp_path / "no-model-here"
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nversion: 1\noutput_type: multiple_choice\ntasks: [\n")
    with pytest.raises(TaskSpecError, match=r"broken\.yaml: invalid YAML"):
        run_suite(model_dir=absent_model, suite=broken, data_dir=shared_data)

    snapshot = tmp_path / "snapshot"
    shutil.copytree(shared_data / "wiki", snapshot / "wiki")
    with open(snapshot / "wiki" / "valid.txt", "a") as handle:
        handle.write("\n = Extra = \nAn article that is not in the pinned snapshot.\n")
    with pytest.raises(DatasetPinError, match=r"wiki/valid\.txt has sha256 [0-9a-f]{64}, but the task pins 6baffeab"):
        run_suite(model_dir=absent_model, suite="wikitext_ppl", data_dir=snapshot)

    with pytest.raises(ModelLoadError, match="no-model-here does not exist"):
        run_suite(model_dir=absent_model, suite="wikitext_ppl", data_dir=shared_data, limit=1)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text("{}")
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelLoadError, match=r"has no \.safetensors weights"):
        run_suite(model_dir=pickled, suite="wikitext_ppl", data_dir=shared_data, limit=1)
    with pytest.raises(EvalError, match="limit must be >= 1"):
        run_suite(model_dir=absent_model, suite="wikitext_ppl", data_dir=shared_data, limit=0)


def test_compare_runs_pairs_items(llama_dir, gpt2_dir, shared_data, tmp_path):
    suite = _suite_file(tmp_path)
    for name, model in (("a", llama_dir), ("b", llama_dir), ("c", gpt2_dir)):
        run_suite(model_dir=model, suite=suite, output_dir=tmp_path / name, data_dir=shared_data, limit=2)
    same = compare_runs(tmp_path / "a", tmp_path / "b", iters=200)
    assert [(row.task, row.comparison.metric) for row in same] == [
        ("bigbench_navigate", "acc"),
        ("bigbench_navigate", "acc_norm"),
        ("bigbench_snarks", "acc"),
        ("bigbench_snarks", "acc_norm"),
        ("wiki_validation", "word_perplexity"),
        ("wiki_validation", "byte_perplexity"),
        ("wiki_validation", "bits_per_byte"),
    ]
    assert all(row.comparison.delta == 0.0 and row.comparison.p_value == 1.0 for row in same)
    different = {
        (r.task, r.comparison.metric): r.comparison for r in compare_runs(tmp_path / "a", tmp_path / "c", iters=200)
    }
    bpb = different[("wiki_validation", "bits_per_byte")]
    results_a = json.loads((tmp_path / "a" / "results.json").read_text())["tasks"]["wiki_validation"]
    results_c = json.loads((tmp_path / "c" / "results.json").read_text())["tasks"]["wiki_validation"]
    expected = results_a["metrics"]["bits_per_byte"]["value"] - results_c["metrics"]["bits_per_byte"]["value"]
    assert bpb.delta == pytest.approx(expected, rel=1e-12)
    assert bpb.n == 2


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "evals", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_runs_a_suite_and_reports_errors(llama_dir, shared_data, tmp_path):
    out = tmp_path / "cli"
    done = _cli("run", "--model", str(llama_dir), "--suite", "wikitext_ppl", "--output", str(out), "--limit", "2")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["limit"] == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "results.json",
        "samples_wikitext_test.jsonl",
        "samples_wikitext_validation.jsonl",
    ]
    assert "wikitext_ppl (mean)" in done.stdout
    assert "[done]" in done.stderr

    broken = tmp_path / "task.yaml"
    broken.write_text(yaml.safe_dump({"name": "t", "version": 1, "output_type": "multiple_choice"}))
    failed = _cli("run", "--model", str(tmp_path / "none"), "--suite", str(broken), "--output", str(tmp_path / "x"))
    assert failed.returncode == 2
    assert failed.stderr.strip() == f"error: {broken}: missing required key(s) in task: dataset, split, doc_to_target"
    assert not (tmp_path / "x").exists()

    listing = _cli("list")
    assert listing.stdout.split() == ["bigbench_mc", "wikitext_ppl"]
    compared = _cli("compare", str(out), str(out), "--iters", "100")
    assert compared.returncode == 0
    assert compared.stdout.count("delta +0.0000 [+0.0000, +0.0000] p=1.0000 n=2") == 6
