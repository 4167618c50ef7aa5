"""Parity with EleutherAI lm-evaluation-harness 0.4.13 (its ``hf`` back-end, batch size 1).

The same tiny GPT-2 (real GPT-2 BPE, 256-token context) is scored by lm-eval, run offline as a
subprocess on local YAML tasks written from our task specs, and by our harness. Per-item
log-likelihoods must agree within 1e-4 and the aggregate metrics must match.
"""

import glob
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.harness.lm_eval_export import export_task, write_config
from evals.harness.run import run_suite
from evals.harness.suite import Suite, load_suite

pytestmark = pytest.mark.slow

# Multi-token choices after a one-space output prefix (moved onto the continuation); and long
# stories with one-token choices (prompts past 256 tokens are truncated from the left; the choices
# share one forward pass).
MC_TASKS = ("bigbench_logical_deduction_three_objects", "bigbench_causal_judgment")
MC_LIMIT = 30
WIKI_TASK = "wikitext_validation"
WIKI_LIMIT = 2  # a 2,007-word article (many windows) and a 130-word one (a single, padded window)
# Rolling articles sum float32 window totals in the thousands (one unit in the last place: 1.2e-4 at
# 1,024, 2.4e-4 at 2,048), so for them 1e-4 means every window's total is bitwise lm-eval's.
LL_TOLERANCE = 1e-4
LM_EVAL_PREFIX = "parity_"


def _run_lm_eval(model_dir: Path, tasks: list[dict], tmp: Path) -> tuple[dict, dict[str, list[dict]]]:
    include = tmp / "lm_eval_tasks"
    for task in tasks:
        write_config(task, include)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(tmp / "datasets_cache"),  # fresh: datasets caches by path and mtime
        "TOKENIZERS_PARALLELISM": "false",
    }
    output = tmp / "lm_eval_out"
    command = [
        sys.executable,
        "-m",
        "lm_eval",
        "run",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model_dir},dtype=float32",
        "--tasks",
        ",".join(task["task"] for task in tasks),
        "--include_path",
        str(include),
        "--batch_size",
        "1",
        "--device",
        "cpu",
        "--limit",
        str(MC_LIMIT),
        "--log_samples",
        "--output_path",
        str(output),
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr[-4000:]
    (results_file,) = glob.glob(str(output / "**" / "results_*.json"), recursive=True)
    samples = {}
    for task in tasks:
        (samples_file,) = glob.glob(str(output / "**" / f"samples_{task['task']}_*.jsonl"), recursive=True)
        name = task["task"].removeprefix(LM_EVAL_PREFIX)
        samples[name] = [json.loads(line) for line in Path(samples_file).read_text().splitlines()]
    results = json.loads(Path(results_file).read_text())["results"]
    return {name.removeprefix(LM_EVAL_PREFIX): value for name, value in results.items()}, samples


def test_multiple_choice_and_rolling_perplexity_match_lm_eval(gpt2_dir, shared_data, tmp_path):
    mc_specs = [t for t in load_suite("bigbench_mc", data_root=shared_data).tasks if t.name in MC_TASKS]
    wiki_spec = next(t for t in load_suite("wikitext_ppl", data_root=shared_data).tasks if t.name == WIKI_TASK)
    lm_eval_tasks = [
        export_task(
            spec, data_root=shared_data, out_dir=tmp_path / "docs", name=LM_EVAL_PREFIX + spec.name, limit=limit
        )
        for spec, limit in ((mc_specs[0], MC_LIMIT), (mc_specs[1], MC_LIMIT), (wiki_spec, WIKI_LIMIT))
    ]
    theirs, their_samples = _run_lm_eval(gpt2_dir, lm_eval_tasks, tmp_path)

    ours_mc = run_suite(
        model_dir=gpt2_dir,
        suite=Suite("parity_mc", 1, "", tuple(mc_specs), None, "test"),
        data_dir=shared_data,
        limit=MC_LIMIT,
        batch_size=1,
    )
    ours_wiki = run_suite(
        model_dir=gpt2_dir,
        suite=Suite("parity_wiki", 1, "", (wiki_spec,), None, "test"),
        data_dir=shared_data,
        limit=WIKI_LIMIT,
        batch_size=1,
    )

    # Multiple choice: every choice's log-likelihood, then acc / acc_norm per item and overall.
    assert len(mc_specs) == len(MC_TASKS)
    for spec in mc_specs:
        their_items = {sample["doc"]["id"]: sample for sample in their_samples[spec.name]}
        our_records = ours_mc.samples[spec.name]
        assert len(our_records) == MC_LIMIT
        assert sorted(their_items) == [record["item_id"] for record in our_records]
        for record in our_records:
            sample = their_items[record["item_id"]]
            their_lls = [float(response[0]) for response in sample["filtered_resps"]]
            our_lls = [response["logprob"] for response in record["responses"]]
            assert len(our_lls) == len(their_lls)
            assert max(abs(a - b) for a, b in zip(our_lls, their_lls, strict=True)) <= LL_TOLERANCE
            assert record["metrics"] == {"acc": sample["acc"], "acc_norm": sample["acc_norm"]}
        our_metrics = ours_mc.results["tasks"][spec.name]["metrics"]
        for metric in ("acc", "acc_norm"):
            assert our_metrics[metric]["value"] == theirs[spec.name][f"{metric},none"]
            assert our_metrics[metric]["stderr"] == pytest.approx(theirs[spec.name][f"{metric}_stderr,none"], rel=1e-9)

    # Rolling perplexity: each article's log-likelihood, its word and byte counts, the aggregates.
    their_docs = {sample["doc"]["id"]: sample for sample in their_samples[WIKI_TASK]}
    our_docs = ours_wiki.samples[WIKI_TASK]
    assert sorted(their_docs) == [record["item_id"] for record in our_docs] == list(range(WIKI_LIMIT))
    for record in our_docs:
        sample = their_docs[record["item_id"]]
        their_ll, their_words = sample["word_perplexity"]
        _, their_bytes = sample["byte_perplexity"]
        assert abs(record["responses"][0]["logprob"] - float(sample["filtered_resps"][0])) <= LL_TOLERANCE
        assert record["metrics"]["word_perplexity"][1] == their_words
        assert record["metrics"]["byte_perplexity"][1] == their_bytes
        assert abs(record["metrics"]["bits_per_byte"][0] - their_ll) <= LL_TOLERANCE
    wiki_metrics = ours_wiki.results["tasks"][WIKI_TASK]["metrics"]
    for metric in ("word_perplexity", "byte_perplexity", "bits_per_byte"):
        assert math.isclose(wiki_metrics[metric]["value"], theirs[WIKI_TASK][f"{metric},none"], rel_tol=1e-6)
