"""Real small runs of every recipe, end to end, with their outputs read back by transformers."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoModelForSequenceClassification, AutoTokenizer

from registry.cards import card_parse
from training_runner.core.config import TrainConfig
from training_runner.core.lora import load_adapter, merge_lora
from training_runner.core.model import load_pretrained
from training_runner.core.run import run_training
from training_runner.core.tokenizer import load_tokenizer

REPO_ROOT = Path(__file__).resolve().parents[3]
COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "black", "white", "pink", "brown", "grey", "cyan"]
GREEK = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma", "omega", "pi"]
OUTPUT_FILES = [
    "README.md",
    "config.json",
    "generation_config.json",
    "metrics.jsonl",
    "model.safetensors",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
]


def run(config: dict, out: Path) -> tuple[list[dict], object]:
    events: list[dict] = []
    result = run_training(TrainConfig.from_dict(config), output_dir=out, on_metrics=events.append)
    return events, result


def evals(events: list[dict], key: str) -> list[float]:
    return [e[key] for e in events if e["event"] == "eval"]


def front_matter(readme: Path) -> dict:
    _, meta, _ = readme.read_text().split("---\n", 2)
    return yaml.safe_load(meta)


def sample_ids(vocab: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(5, vocab, (2, 24), generator=torch.Generator().manual_seed(seed))


def chat_dataset(folder: Path) -> Path:
    """Conversations asking to repeat a few Greek letters back; prompt/completion and messages forms."""
    rng = random.Random(1)
    folder.mkdir()
    for name, count in (("train.jsonl", 240), ("valid.jsonl", 24)):
        rows = []
        for i in range(count):
            words = " ".join(rng.choice(GREEK) for _ in range(rng.randint(2, 5)))
            if i % 2:
                rows.append({"prompt": f"Repeat: {words}", "completion": words})
            else:
                chat = [{"role": "user", "content": f"Repeat: {words}"}, {"role": "assistant", "content": words}]
                rows.append({"messages": chat})
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


@pytest.mark.slow
def test_pretraining_on_wiki_lowers_validation_bits_per_byte(wiki_dir: Path, tmp_path: Path) -> None:
    config = {
        "recipe": "pretrain_clm",
        "seed": 0,
        "data": {"path": str(wiki_dir), "seq_len": 64},
        "model": {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "max_position_embeddings": 64},
        "tokenizer": {"vocab_size": 1024},
        "optim": {"lr": 0.003, "warmup_steps": 20},
        "train": {"max_steps": 300, "batch_size": 8, "eval_interval": 100, "eval_batches": 8, "log_interval": 0},
        "card": {
            "datasets": ["wiki"],
            "model_name": "wiki-tiny",
            "repo_id": "lab/wiki-tiny",
            "run_url": "http://hub.example/runs/7",
            "metadata": {"training_inputs": {"datasets": [{"repo": "wiki", "commit": "a" * 40}]}},
        },
    }
    out = tmp_path / "run"
    events, result = run(config, out)
    bpb = evals(events, "val_bpb")
    assert [e["step"] for e in events if e["event"] == "eval"] == [100, 200, 300]
    assert bpb[0] > bpb[1] > bpb[2]
    assert bpb[2] < bpb[0] - 0.1
    assert result.metrics["val_bpb"] == bpb[2]
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == OUTPUT_FILES
    meta = front_matter(out / "README.md")
    assert meta["pipeline_tag"] == "text-generation"
    assert meta["datasets"] == ["wiki"]
    assert meta["license"] == "apache-2.0"
    assert "base_model" not in meta  # trained from scratch
    assert meta["hyperparameters"]["learning_rate"] == 0.003
    assert meta["hyperparameters"]["max_steps"] == 300
    assert meta["final_metrics"]["val_bpb"] == round(bpb[2], 6)
    assert meta["training_inputs"] == {"datasets": [{"repo": "wiki", "commit": "a" * 40}]}
    body = (out / "README.md").read_text().split("---\n", 2)[2]
    assert "- Training run: http://hub.example/runs/7\n" in body
    assert 'AutoModelForCausalLM.from_pretrained("lab/wiki-tiny")' in body
    assert meta["model-index"][0]["results"][0]["metrics"][1] == {
        "type": "val_bpb", "name": "Validation bits per byte", "value": round(bpb[2], 6),
    }  # fmt: skip
    # The card is one the registry accepts as it is (README metadata is validated on commit).
    card = card_parse((out / "README.md").read_text(), repo_type="model")
    assert (card.errors, card.license, card.pipeline_tag) == ([], "apache-2.0", "text-generation")
    assert card.eval_results[1].metric_value == round(bpb[2], 6)
    assert json.loads((out / "generation_config.json").read_text())["eos_token_id"] == [0, 3]
    ours = load_pretrained(out)
    ref = AutoModelForCausalLM.from_pretrained(out).eval()
    ids = sample_ids(1024)
    with torch.no_grad():
        assert (ref(ids).logits - ours(ids)).abs().max().item() <= 1e-4
    text = (wiki_dir / "valid.txt").read_text()[:2000]
    assert AutoTokenizer.from_pretrained(out).encode(text) == load_tokenizer(out).encode(text)


@pytest.mark.slow
def test_sft_learns_the_replies(tmp_path: Path) -> None:
    config = {
        "recipe": "sft",
        "data": {"path": str(chat_dataset(tmp_path / "chat")), "seq_len": 64},
        "model": {"hidden_size": 48, "num_layers": 2, "num_heads": 4, "max_position_embeddings": 64},
        "tokenizer": {"vocab_size": 320},
        "optim": {"lr": 0.005, "warmup_steps": 5},
        "train": {"max_steps": 60, "batch_size": 8, "eval_interval": 10, "eval_batches": 0, "log_interval": 0},
    }
    events, result = run(config, tmp_path / "out")
    losses = evals(events, "val_loss")
    assert len(losses) == 6
    assert losses[-1] < 0.6 * losses[0]
    assert "val_bpb" not in result.metrics  # the chat objective scores reply tokens only
    generation = json.loads((tmp_path / "out" / "generation_config.json").read_text())
    tok = load_tokenizer(tmp_path / "out")
    assert generation["eos_token_id"] == [tok.eos_token_id, tok.token_to_id("<|im_end|>")]


@pytest.mark.slow
def test_classification_separates_two_vocabularies(tmp_path: Path) -> None:
    rng = random.Random(2)
    data = tmp_path / "labels"
    data.mkdir()
    for name, count in (("train.jsonl", 400), ("validation.jsonl", 60)):
        rows = []
        for _ in range(count):
            label = rng.choice(["colors", "letters"])
            pool = COLORS if label == "colors" else GREEK
            rows.append({"sentence": " ".join(rng.choice(pool) for _ in range(rng.randint(3, 8))), "topic": label})
        (data / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = {
        "recipe": "classify",
        "data": {"path": str(data), "seq_len": 16},
        "model": {"arch": "bert", "hidden_size": 32, "num_layers": 1, "num_heads": 2, "max_position_embeddings": 16},
        "tokenizer": {"vocab_size": 300},
        "classify": {"text_field": "sentence", "label_field": "topic"},
        "optim": {"lr": 0.003, "warmup_steps": 5},
        "train": {"max_steps": 60, "batch_size": 16, "eval_interval": 0, "eval_batches": 0, "log_interval": 0},
    }
    _, result = run(config, tmp_path / "out")
    assert result.metrics["val_accuracy"] >= 0.95
    out = tmp_path / "out"
    assert json.loads((out / "config.json").read_text())["id2label"] == {"0": "colors", "1": "letters"}
    assert front_matter(out / "README.md")["pipeline_tag"] == "text-classification"
    ours = load_pretrained(out)
    ref = AutoModelForSequenceClassification.from_pretrained(out).eval()
    ids = sample_ids(300)[:, :16]
    with torch.no_grad():
        assert (ref(ids).logits - ours(ids)).abs().max().item() <= 1e-4


@pytest.mark.slow
def test_masked_lm_pretraining_runs_and_exports(greek_corpus: Path, tmp_path: Path) -> None:
    config = {
        "recipe": "pretrain_mlm",
        "data": {"path": str(greek_corpus), "seq_len": 32},
        "model": {"arch": "bert", "hidden_size": 32, "num_layers": 1, "num_heads": 2, "max_position_embeddings": 32},
        "tokenizer": {"vocab_size": 300},
        "optim": {"lr": 0.003, "warmup_steps": 5},
        "train": {"max_steps": 40, "batch_size": 8, "eval_interval": 10, "eval_batches": 4, "log_interval": 0},
    }
    events, _ = run(config, tmp_path / "out")
    losses = evals(events, "val_loss")
    assert losses[-1] < losses[0] - 0.5
    out = tmp_path / "out"
    assert front_matter(out / "README.md")["pipeline_tag"] == "fill-mask"
    ours = load_pretrained(out)
    ref = AutoModelForMaskedLM.from_pretrained(out).eval()
    ids = sample_ids(300)
    with torch.no_grad():
        assert (ref(ids).logits - ours(ids)).abs().max().item() <= 1e-4


@pytest.mark.slow
def test_lora_fine_tunes_a_pretrained_base(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    base = tmp_path / "base"
    run(clm_config(greek_corpus, max_steps=10), base)
    config = {
        "recipe": "lora",
        "data": {"path": str(chat_dataset(tmp_path / "chat")), "seq_len": 48},
        "model": {"source": "pretrained", "path": str(base)},
        "tokenizer": {"source": "model"},
        "lora": {"rank": 4, "alpha": 8.0, "target_modules": ["q_proj", "v_proj", "down_proj"]},
        "optim": {"lr": 0.01, "warmup_steps": 3},
        "train": {"max_steps": 30, "batch_size": 8, "eval_interval": 10, "eval_batches": 0, "log_interval": 0},
    }
    out = tmp_path / "lora"
    events, _ = run(config, out)
    losses = evals(events, "val_loss")
    assert losses[-1] < losses[0]
    assert sorted(p.name for p in (out / "adapter").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    # A local directory is not a repository id, so it is not written as the base model.
    assert "base_model" not in front_matter(out / "README.md")
    rebuilt = load_pretrained(base)
    load_adapter(rebuilt, out / "adapter")
    merge_lora(rebuilt)
    merged = load_pretrained(out)
    ids = sample_ids(300)
    with torch.no_grad():
        assert (rebuilt(ids) - merged(ids)).abs().max().item() <= 1e-5
        assert (load_pretrained(base)(ids) - merged(ids)).abs().max().item() > 1e-3  # the adapter did something


@pytest.mark.slow
def test_cli_trains_from_a_recipe_yaml(greek_corpus: Path, tmp_path: Path) -> None:
    overrides = [
        f"data.path={greek_corpus}",
        "data.seq_len=32",
        "model.hidden_size=32",
        "model.num_layers=1",
        "model.max_position_embeddings=32",
        "tokenizer.vocab_size=300",
        "train.max_steps=5",
        "train.eval_interval=0",
        "train.eval_batches=2",
        "train.batch_size=4",
        "train.log_interval=5",
    ]
    args = [sys.executable, "-m", "training_runner", "train", "training_runner/configs/pretrain_clm.yaml"]
    for item in overrides:
        args += ["--set", item]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*args, "--output-dir", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "finished after 5 steps" in done.stdout
    assert (tmp_path / "out" / "model.safetensors").exists()
