"""Trainer: schedule, parameter groups, accumulation, metrics, bit-exact resume, clean stops."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training_runner.core.config import OptimSection, TrainConfig
from training_runner.core.decoder import Decoder, DecoderConfig
from training_runner.core.run import run_training
from training_runner.core.trainer import build_optimizer, lr_factor

TRAIN_KEYS = {"event", "step", "loss", "lr", "grad_norm", "tokens_per_s", "tokens_seen", "epoch", "elapsed_s"}


def test_warmup_then_cosine() -> None:
    schedule = {"warmup_steps": 4, "max_steps": 14, "min_lr_ratio": 0.1}
    assert [lr_factor(s, **schedule) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor(4, **schedule) == 1.0
    assert math.isclose(lr_factor(9, **schedule), 0.55)  # halfway down: (1 + 0.1) / 2
    assert math.isclose(lr_factor(14, **schedule), 0.1)
    assert math.isclose(lr_factor(20, **schedule), 0.1)


def test_no_weight_decay_on_norms_biases_and_embeddings() -> None:
    cfg = DecoderConfig(vocab_size=50, hidden_size=16, num_layers=1, num_heads=2, tie_word_embeddings=True)
    optimizer, names = build_optimizer(Decoder(cfg), OptimSection(weight_decay=0.1), torch.device("cpu"))
    decay, no_decay = optimizer.param_groups
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.1, 0.0)
    assert names[len(decay["params"]) :] == [
        "embed_tokens.weight",  # also the tied output head
        "layers.0.attn_norm.weight",
        "layers.0.mlp_norm.weight",
        "norm.weight",
    ]
    assert "layers.0.attn.q_proj.weight" in names[: len(decay["params"])]


def collect(config: dict, out: Path, *, stop_after: int | None = None, **kwargs) -> tuple[list[dict], object]:
    """Run a config; the metrics it streamed and its result. ``stop_after`` requests a stop after N steps."""
    events: list[dict] = []
    if stop_after is not None:
        kwargs["should_stop"] = lambda: len(train_losses(events)) >= stop_after
    result = run_training(TrainConfig.from_dict(config), output_dir=out, on_metrics=events.append, **kwargs)
    return events, result


def train_losses(events: list[dict]) -> list[float]:
    return [e["loss"] for e in events if e["event"] == "train"]


def test_metrics_stream_and_bits_per_byte(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    config = clm_config(greek_corpus, max_steps=4, eval_interval=2)
    config["train"]["peak_flops"] = 1e12
    events, result = collect(config, tmp_path)
    train = [e for e in events if e["event"] == "train"]
    assert [e["step"] for e in events] == [1, 2, 2, 3, 4, 4]
    assert set(train[0]) == TRAIN_KEYS | {"mfu"}
    assert train[-1]["tokens_seen"] == 4 * 4 * 32
    model = Decoder(DecoderConfig(vocab_size=300, hidden_size=32, num_layers=2, num_heads=4, num_kv_heads=2,
                                  max_position_embeddings=64, tie_word_embeddings=True))  # fmt: skip
    assert train[0]["mfu"] == pytest.approx(model.flops_per_token(32) * train[0]["tokens_per_s"] / 1e12, rel=1e-9)
    final = events[-1]
    assert final["event"] == "eval"
    assert final["val_bpb"] == pytest.approx(final["val_loss"] * result.metrics["val_bpb"] / result.metrics["val_loss"])
    assert result.metrics["val_loss"] == final["val_loss"]
    # The seeded run's own numbers (the same for any thread count; 1e-6 leaves room for another CPU's kernels).
    assert (result.metrics["val_loss"], result.metrics["val_bpb"]) == (
        pytest.approx(5.282012462615967, rel=1e-6), pytest.approx(4.268720559183408, rel=1e-6),
    )  # fmt: skip
    assert (tmp_path / "metrics.jsonl").read_text().count("\n") == 6


def test_accumulation_matches_one_large_batch(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    big, _ = collect(clm_config(greek_corpus, max_steps=3, batch_size=8), tmp_path / "big")
    small, _ = collect(clm_config(greek_corpus, max_steps=3, batch_size=4, grad_accum_steps=2), tmp_path / "acc")
    assert train_losses(small) == pytest.approx(train_losses(big), rel=1e-5)


def test_resume_is_bit_exact(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    """N steps straight == k steps, checkpoint, resume, N − k steps (dropout and accumulation on)."""
    config = clm_config(greek_corpus, max_steps=12, grad_accum_steps=2, eval_interval=5)
    config["model"]["dropout"] = 0.1
    straight, full = collect(config, tmp_path / "straight")
    first, stopped = collect(config, tmp_path / "split", stop_after=5)
    assert stopped.stopped
    assert stopped.steps == 5
    assert [e["event"] for e in first] == ["train"] * 5 + ["eval"]
    assert not (tmp_path / "split" / "model.safetensors").exists()  # no export for a stopped run
    files = sorted(p.name for p in stopped.checkpoint_dir.iterdir())
    assert files == [
        "optimizer.safetensors",
        "rng-rank0.safetensors",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "train_config.yaml",
        "trainable.safetensors",
        "trainer_state.json",
    ]  # safetensors and text only: nothing to unpickle
    rest, resumed = collect(config, tmp_path / "split", resume_from=stopped.checkpoint_dir)
    assert train_losses(first) + train_losses(rest) == train_losses(straight)
    assert resumed.metrics == full.metrics
    a = load_file(tmp_path / "straight" / "model.safetensors")
    b = load_file(tmp_path / "split" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_masked_lm_resume_restores_the_mask_generator(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    config = clm_config(greek_corpus, max_steps=6)
    config["recipe"] = "pretrain_mlm"
    config["model"] = {
        "arch": "bert",
        "hidden_size": 32,
        "num_layers": 1,
        "num_heads": 2,
        "max_position_embeddings": 64,
    }
    straight, _ = collect(config, tmp_path / "a")
    first, stopped = collect(config, tmp_path / "b", stop_after=3)
    rest, _ = collect(config, tmp_path / "b", resume_from=stopped.checkpoint_dir)
    assert train_losses(first) + train_losses(rest) == train_losses(straight)


def test_periodic_checkpoints_are_rotated(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    config = clm_config(greek_corpus, max_steps=6, checkpoint_interval=2, keep_checkpoints=2)
    announced = []

    def on_checkpoint(path: Path) -> None:  # called once the checkpoint is complete on disk
        announced.append((path.name, sorted(p.name for p in path.iterdir())))

    _, result = collect(config, tmp_path, on_checkpoint=on_checkpoint)
    files = [
        "optimizer.safetensors", "rng-rank0.safetensors", "special_tokens_map.json", "tokenizer.json",
        "tokenizer_config.json", "train_config.yaml", "trainable.safetensors", "trainer_state.json",
    ]  # fmt: skip
    assert announced == [("step-000002", files), ("step-000004", files), ("step-000006", files)]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-000004", "step-000006"]
    assert result.checkpoint_dir == tmp_path / "checkpoints" / "step-000006"
    assert not result.stopped


def test_bf16_autocast_trains_float32_weights(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    config = clm_config(greek_corpus, max_steps=6, precision="bf16")
    events, result = collect(config, tmp_path)
    losses = train_losses(events)
    assert all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0]
    weights = load_file(tmp_path / "model.safetensors")
    assert {t.dtype for t in weights.values()} == {torch.float32}  # autocast computes in bf16, keeps fp32 masters
    # The seeded bf16 run's value. CPUs round bf16 matmuls differently (native AVX-512 BF16 against
    # emulation): 4.1577328 on an AMD EPYC, 4.1577573 on an Intel Xeon, 6e-6 apart; a change to the
    # training step moves it by far more.
    assert result.metrics["val_bpb"] == pytest.approx(4.15774, rel=1e-5)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning:torch.jit._script")  # torch.compile imports old jit code
@pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None, reason="torch.compile on CPU needs a C compiler"
)
def test_compiled_model_trains_like_the_eager_one(greek_corpus: Path, tmp_path: Path, clm_config) -> None:
    eager, _ = collect(clm_config(greek_corpus, max_steps=3), tmp_path / "eager")
    compiled, _ = collect(clm_config(greek_corpus, max_steps=3, compile=True), tmp_path / "compiled")
    assert train_losses(compiled) == pytest.approx(train_losses(eager), abs=1e-5)
    assert compiled[-1]["val_loss"] == pytest.approx(eager[-1]["val_loss"], abs=1e-5)
    assert sorted(load_file(tmp_path / "compiled" / "model.safetensors")) == sorted(
        load_file(tmp_path / "eager" / "model.safetensors")
    )  # the export names the real modules, not the compiled wrapper's
