"""Training throughput: our core vs ``transformers`` LlamaForCausalLM, measured in the same run.

Both models get the same config and the same weights (ours is loaded from the reference's saved
files), the same batches, dtype, AdamW settings and gradient clipping. Ours trains through the
core's real ``Trainer.train_step``; the reference through the plain loop a ``transformers`` user
writes (forward, float32 cross-entropy, backward, clip, step). Steps alternate between the two
so that load from other processes hits both alike. The headline is the median of the paired
per-round ratios with a distribution-free 95 % interval (``benchmarks/paired.py``); the ratio of
the best steps is printed beside it. The peak RSS of the process during each side's steps (sampled
every 5 ms) is printed for both.

    python benchmarks/train_throughput.py                 # CPU: fp32, small model
    python benchmarks/train_throughput.py --device cuda   # GPU: bf16 autocast, GPT-2-small-sized model, MFU
    python benchmarks/train_throughput.py --compile       # torch.compile both models

Target: ours / reference ≥ 1.2 in tokens per second, the interval's lower end included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from benchmarks.paired import median_interval, with_peak_rss
from training_runner.core.config import TrainConfig
from training_runner.core.decoder import DecoderConfig
from training_runner.core.distributed import DistInfo
from training_runner.core.hf_format import decoder_config_to_hf
from training_runner.core.model import load_pretrained
from training_runner.core.objectives import Objective, causal_lm_loss
from training_runner.core.trainer import Trainer, build_optimizer, peak_flops

MODEL_KEYS = ("hidden_size", "num_layers", "num_heads", "num_kv_heads", "intermediate_size", "vocab_size")
PRESETS = {  # DecoderConfig sizes, plus tokens per sequence and sequences per step
    "cpu": dict(zip((*MODEL_KEYS, "seq_len", "batch_size"), (256, 4, 8, 4, 688, 8192, 256, 8), strict=True)),
    "gpu": dict(zip((*MODEL_KEYS, "seq_len", "batch_size"), (768, 12, 12, 4, 2048, 32000, 1024, 16), strict=True)),
}


class RandomTokens:
    """Deterministic random token windows: item i is the same tensor every time it is read."""

    def __init__(self, vocab: int, seq_len: int, size: int = 4096) -> None:
        self.vocab, self.seq_len, self.size = vocab, seq_len, size

    def __len__(self) -> int:
        return self.size

    def batch(self, indices, generator=None):
        rows = [
            torch.randint(self.vocab, (self.seq_len + 1,), generator=torch.Generator().manual_seed(i)) for i in indices
        ]
        w = torch.stack(rows)  # (B, T + 1)
        return {"input_ids": w[:, :-1], "labels": w[:, 1:]}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--rounds", type=int, default=8, help="measured steps per model")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured steps per model first")
    parser.add_argument("--compile", action="store_true", help="torch.compile both models")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    for name in PRESETS["cpu"]:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, help="override the preset")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run(args, Path(scratch))


def run(args: argparse.Namespace, scratch: Path) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if cuda else "cpu")
    preset = PRESETS["gpu" if cuda else "cpu"]
    sizes = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in preset.items()}
    precision = "bf16" if cuda else "fp32"

    torch.manual_seed(0)
    shape = DecoderConfig(**{k: sizes[k] for k in MODEL_KEYS}, max_position_embeddings=sizes["seq_len"])
    reference = LlamaForCausalLM(LlamaConfig(**decoder_config_to_hf(shape, torch.float32)))
    reference.save_pretrained(scratch / "reference")
    ours = load_pretrained(scratch / "reference")
    reference.to(device).train()

    cfg = TrainConfig.from_dict(
        {
            "recipe": "pretrain_clm",
            "data": {"path": "unused", "seq_len": sizes["seq_len"]},
            "optim": {"lr": 3e-4, "warmup_steps": 0, "grad_clip": 1.0},
            "train": {
                "batch_size": sizes["batch_size"],
                "max_steps": 10**6,
                "precision": precision,
                "compile": args.compile,
            },
        }
    )
    dist = DistInfo(rank=0, local_rank=0, world_size=1, device=device)
    data = RandomTokens(sizes["vocab_size"], sizes["seq_len"])
    objective = Objective(
        data, data, causal_lm_loss(None), batch_size=sizes["batch_size"], seed=0, dist=dist, max_eval_batches=1
    )
    trainer = Trainer(cfg, ours, objective, dist=dist, output_dir=scratch)

    ref_forward = torch.compile(reference) if args.compile else reference
    ref_optimizer, _ = build_optimizer(reference, cfg.optim, device)
    ref_params = [p for p in reference.parameters() if p.requires_grad]
    ref_order = Objective(
        data, data, causal_lm_loss(None), batch_size=sizes["batch_size"], seed=0, dist=dist, max_eval_batches=1
    )
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()

    def reference_step() -> None:
        batch = {k: v.to(device) for k, v in ref_order.train_batch().items()}
        with autocast:
            logits = ref_forward(input_ids=batch["input_ids"]).logits  # (B, T, V)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), batch["labels"].flatten())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref_params, cfg.optim.grad_clip)
        ref_optimizer.step()
        ref_optimizer.zero_grad(set_to_none=True)
        loss.item()  # wait for the device, as train_step does

    def timed(step) -> float:
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    peaks = {}
    for name, step in (("ours", trainer.train_step), ("reference", reference_step)):
        _, peak, before = with_peak_rss(step)
        peaks[name] = (peak, peak - before)

    for _ in range(args.warmup):
        trainer.train_step()
        reference_step()
    ours_times, ref_times = [], []
    for i in range(args.rounds):  # interleaved, alternating who goes first: background load hits both alike
        if i % 2:
            ref_times.append(timed(reference_step))
        ours_times.append(timed(trainer.train_step))
        if not i % 2:
            ref_times.append(timed(reference_step))

    tokens = sizes["batch_size"] * sizes["seq_len"]
    ours_best, ref_best = tokens / min(ours_times), tokens / min(ref_times)
    ours_median, ref_median = tokens / statistics.median(ours_times), tokens / statistics.median(ref_times)
    paired, low, high = median_interval([r / o for o, r in zip(ours_times, ref_times, strict=True)])
    where = torch.cuda.get_device_name(device) if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {where}; dtype: {'bf16 autocast' if cuda else 'fp32'}; compile: {args.compile}")
    print("config: " + ", ".join(f"{k}={v}" for k, v in sizes.items()) + f"; params: {ours.num_params() / 1e6:.1f}M")
    print(
        f"tokens per step: {tokens}; measured steps per model: {args.rounds} (after {args.warmup} warm-up), interleaved"
    )
    print(f"ours (training_runner.core)  : best {ours_best:9.0f} tokens/s, median {ours_median:9.0f}")
    print(f"transformers LlamaForCausalLM: best {ref_best:9.0f} tokens/s, median {ref_median:9.0f}")
    best_ratio = ours_best / ref_best
    print(
        f"ratio ours / transformers    : {paired:.3f}x median of {args.rounds} paired rounds "
        f"(95% interval {low:.3f}-{high:.3f}); {best_ratio:.3f}x best steps"
    )
    for name, (peak, grew) in peaks.items():
        print(f"peak RSS during a {name} step: {peak:.0f} MB (+{grew:.0f} MB over the RSS before it)")
    peak = peak_flops(device, None)
    if peak:
        flops = ours.flops_per_token(sizes["seq_len"])  # 6N + 12·L·H·D·T per token
        mfu_ours, mfu_ref = flops * ours_median / peak, flops * ref_median / peak
        print(f"MFU (median steps) ours: {mfu_ours:.1%}; transformers: {mfu_ref:.1%}; peak {peak:.3g} FLOP/s")


if __name__ == "__main__":
    main()
