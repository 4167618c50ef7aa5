"""Export a task to EleutherAI lm-evaluation-harness, to cross-check numbers against it.

``export_task`` writes the task's documents (parsed and pin-checked here) as JSON Lines and returns
an lm-eval task config that reads them with the same templates, delimiters and metrics. Save the
configs as YAML in a directory and run lm-eval offline::

    HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_DATASETS_CACHE=$(mktemp -d) \\
    lm_eval run --model hf --model_args pretrained=DIR,dtype=float32 --tasks NAME \\
        --include_path CONFIG_DIR --batch_size 1 --log_samples --output_path OUT

Only zero-shot tasks without output filters are exported: lm-eval draws few-shot examples from one
random stream for the whole task, so its few-shot prompts differ from ours by design (see
``fewshot``), and its filters are configured differently.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from evals.harness.data import load_split
from evals.harness.errors import EvalError
from evals.harness.spec import TaskSpec


def export_task(
    spec: TaskSpec, *, data_root: Path, out_dir: Path, name: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Write ``<name>.jsonl`` (the evaluated split, or its first ``limit`` items) to ``out_dir``;
    return the lm-eval config that reads it."""
    if spec.num_fewshot:
        raise EvalError(f"{spec.name}: only zero-shot tasks can be compared with lm-eval")
    if spec.filters:
        raise EvalError(f"{spec.name}: output filters have no lm-eval counterpart here")
    name = name or spec.name
    out_dir.mkdir(parents=True, exist_ok=True)
    docs_file = out_dir / f"{name}.jsonl"
    items = load_split(data_root, spec.dataset, spec.split)[:limit]
    docs_file.write_text("".join(json.dumps(dict(item.doc), ensure_ascii=False) + "\n" for item in items), "utf-8")
    config: dict[str, Any] = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(docs_file)}},
        "test_split": "test",
        "output_type": spec.output_type,
        "doc_to_text": spec.doc_to_text,
        "doc_to_target": spec.doc_to_target,
        "description": spec.description,
        "target_delimiter": spec.target_delimiter,
        "fewshot_delimiter": spec.fewshot_delimiter,
        "num_fewshot": 0,
        "metric_list": [{"metric": metric.name} for metric in spec.metrics],
    }
    if spec.doc_to_choice is not None:
        config["doc_to_choice"] = (
            spec.doc_to_choice if isinstance(spec.doc_to_choice, str) else list(spec.doc_to_choice)
        )
    if spec.generation is not None:
        config["generation_kwargs"] = {
            "until": list(spec.generation.until),
            "max_gen_toks": spec.generation.max_gen_toks,
            "do_sample": False,
        }
    return config


def write_config(config: dict[str, Any], config_dir: Path) -> Path:
    """Save one task config as ``<task>.yaml`` for ``--include_path``."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / f"{config['task']}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path
