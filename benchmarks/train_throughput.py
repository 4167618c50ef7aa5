"""Training throughput: our core vs ``transformers`` LlamaForCausalLM, measured in the same run.

Both models get the same config and the same weights (ours is loaded from the reference's saved
files), the same batches, dtype, AdamW settings and gradient clipping. Ours trains through the
core's real ``Trainer.train_step``; the reference through the plain loop a ``transformers`` user
writes (forward, float32 cross-entropy, backward, clip, step). Each row is a number of intra-op
threads (and eager or ``torch.compile`` on both); within a row the steps of the two alternate, and
who goes first alternates from round to round, so that load from other processes hits both alike.

The headline of a row is the median of the paired per-round ratios of wall time with a
distribution-free 95 % interval (``benchmarks/paired.py``); the ratio of the best steps is printed
beside it. With one thread every kernel runs on the calling thread, so the row also compares CPU
time per step (``time.thread_time``): time the process spent descheduled by other work on the
machine does not count, which makes that ratio steadier on a shared machine. The peak RSS of the
process during one step of each side (sampled every 5 ms, after the warm-up) and the load average
at the start and end of each row are printed too.

    python benchmarks/train_throughput.py                 # CPU: fp32, small model, 1 thread and torch's default
    python benchmarks/train_throughput.py --threads 1     # one row
    python benchmarks/train_throughput.py --compile       # also rows with torch.compile on both models
    python benchmarks/train_throughput.py --device cuda   # GPU: bf16 autocast, GPT-2-small-sized model, MFU

Target: ours / reference ≥ 1.2 in tokens per second, the interval's lower end included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
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


def thread_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated thread counts, got {text!r}") from None
    if min(counts) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be positive, got {text!r}")
    return counts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--rounds", type=int, default=16, help="measured paired rounds per row")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured steps per model first, in each row")
    parser.add_argument("--compile", action="store_true", help="add rows with torch.compile on both models")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="STEPS",
        help="after the rows, profile STEPS eager steps of each side at one thread: self CPU time by op",
    )
    parser.add_argument(
        "--threads",
        type=thread_counts,
        help="comma-separated torch intra-op thread counts, a row each (CPU default: 1 and torch's choice)",
    )
    for name in PRESETS["cpu"]:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, help="override the preset")
    args = parser.parse_args()
    if args.rounds < 1 or args.warmup < 0 or args.profile < 0:
        parser.error("--rounds must be at least 1, --warmup and --profile at least 0")
    return args


@dataclass
class Row:
    label: str
    tokens: int
    ours: list[tuple[float, float]]  # (wall s, CPU s) per measured step
    ref: list[tuple[float, float]]
    rss: dict[str, tuple[float, float]]  # side -> (peak MB, rise over the RSS before the step)
    load: tuple[float, float]  # 1-minute load average at the start and the end of the row
    cpu_comparable: bool  # one thread on a CPU: the calling thread's CPU time is the step's whole work


@dataclass
class Failed:
    label: str
    reason: str


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run(args, Path(scratch))


def run(args: argparse.Namespace, scratch: Path) -> None:
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if cuda else "cpu")
    preset = PRESETS["gpu" if cuda else "cpu"]
    sizes = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in preset.items()}
    precision = "bf16" if cuda else "fp32"
    threads = args.threads or ([torch.get_num_threads()] if cuda else sorted({1, torch.get_num_threads()}))

    torch.manual_seed(0)
    shape = DecoderConfig(**{k: sizes[k] for k in MODEL_KEYS}, max_position_embeddings=sizes["seq_len"])
    reference = LlamaForCausalLM(LlamaConfig(**decoder_config_to_hf(shape, torch.float32)))
    reference.save_pretrained(scratch / "reference")
    ours = load_pretrained(scratch / "reference")
    reference.to(device).train()

    def train_config(compiled: bool) -> TrainConfig:
        return TrainConfig.from_dict(
            {
                "recipe": "pretrain_clm",
                "data": {"path": "unused", "seq_len": sizes["seq_len"]},
                "optim": {"lr": 3e-4, "warmup_steps": 0, "grad_clip": 1.0},
                "train": {
                    "batch_size": sizes["batch_size"],
                    "max_steps": 10**6,
                    "precision": precision,
                    "compile": compiled,
                },
            }
        )

    dist = DistInfo(rank=0, local_rank=0, world_size=1, device=device)
    data = RandomTokens(sizes["vocab_size"], sizes["seq_len"])

    def objective() -> Objective:
        return Objective(
            data, data, causal_lm_loss(None), batch_size=sizes["batch_size"], seed=0, dist=dist, max_eval_batches=1
        )

    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()
    ref_params = [p for p in reference.parameters() if p.requires_grad]

    def sides(compiled: bool) -> tuple[Callable[[], object], Callable[[], None]]:
        """Ours and the reference's step functions, each with a fresh optimizer and data order."""
        cfg = train_config(compiled)
        trainer = Trainer(cfg, ours, objective(), dist=dist, output_dir=scratch)
        ref_forward = torch.compile(reference) if compiled else reference
        ref_optimizer, _ = build_optimizer(reference, cfg.optim, device)
        ref_order = objective()

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

        return trainer.train_step, reference_step

    def timed(step) -> tuple[float, float]:
        if cuda:
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter(), time.thread_time()
        step()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - wall, time.thread_time() - cpu

    tokens = sizes["batch_size"] * sizes["seq_len"]
    rows: list[Row | Failed] = []
    for compiled in (False, True) if args.compile else (False,):
        for count in threads:
            torch.set_num_threads(count)
            label = f"{count} thread{'s' if count > 1 else ''}, {'torch.compile' if compiled else 'eager'}"
            load_start = os.getloadavg()[0]
            ours_step, ref_step = sides(compiled)
            failure = None
            for name, step in (("ours", ours_step), ("transformers", ref_step)):
                try:
                    for _ in range(max(args.warmup, 1 if compiled else 0)):  # compiling happens here
                        step()
                except Exception as exc:  # the row reports which side failed to compile and why
                    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
                    failure = f"{name} failed: {type(exc).__name__}: {first_line}"
                    break
            if failure:
                rows.append(Failed(label, failure))
                print(f"{label}: {failure}", flush=True)
                continue
            rss = {}
            for name, step in (("ours", ours_step), ("transformers", ref_step)):
                _, peak, before = with_peak_rss(step)
                rss[name] = (peak, peak - before)
            ours_times, ref_times = [], []
            for i in range(args.rounds):  # paired rounds, alternating who goes first
                if i % 2:
                    ref_times.append(timed(ref_step))
                ours_times.append(timed(ours_step))
                if not i % 2:
                    ref_times.append(timed(ref_step))
            row = Row(
                label, tokens, ours_times, ref_times, rss, (load_start, os.getloadavg()[0]), count == 1 and not cuda
            )
            rows.append(row)
            print(summary(row), flush=True)

    if args.profile and cuda:
        print("--profile times CPU ops at one thread; skipped on CUDA")
    elif args.profile:
        torch.set_num_threads(1)
        profile_steps(*sides(False), args.profile)

    where = torch.cuda.get_device_name(device) if cuda else "CPU"
    print()
    print(f"device: {where}; dtype: {'bf16 autocast' if cuda else 'fp32'}; cores: {os.cpu_count()}")
    print("config: " + ", ".join(f"{k}={v}" for k, v in sizes.items()) + f"; params: {ours.num_params() / 1e6:.1f}M")
    print(f"tokens per step: {tokens}; per row: {args.warmup} warm-up steps each, then {args.rounds} paired rounds")
    for row in rows:
        print(summary(row) if isinstance(row, Row) else f"{row.label}: {row.reason}")
    peak = peak_flops(device, None)
    eager = next((r for r in rows if isinstance(r, Row)), None)
    if peak and eager:
        flops = ours.flops_per_token(sizes["seq_len"])  # 6N + 12·L·H·D·T per token
        ours_rate = tokens / statistics.median(w for w, _ in eager.ours)
        ref_rate = tokens / statistics.median(w for w, _ in eager.ref)
        print(f"MFU (median steps) ours: {flops * ours_rate / peak:.1%}; transformers: {flops * ref_rate / peak:.1%}")


MATMULS = {"aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm"}


def profile_steps(ours_step: Callable[[], object], ref_step: Callable[[], None], steps: int) -> None:
    """Self time by op of ``steps`` profiled steps of each side, alternating, after one unprofiled step each.

    Each op's time is its smallest over the steps: the profiler reads wall clocks, and on a shared
    machine a step that other work preempted inflates whichever ops it hit; the minima are what the
    step costs when it has the core to itself.
    """
    from torch.profiler import ProfilerActivity, profile

    sides = {"ours": ours_step, "transformers": ref_step}
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for step in sides.values():
        step()
    for i in range(steps):
        for name in sides if i % 2 == 0 else reversed(sides):
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                sides[name]()
            samples[name].append({e.key: e.self_cpu_time_total / 1e6 for e in prof.key_averages()})
    times = {
        name: {key: min(s.get(key, 0.0) for s in runs) for key in set().union(*runs)} for name, runs in samples.items()
    }
    ours, ref = times["ours"], times["transformers"]
    print(f"\nprofile: self time per step by op (s), 1 thread, each op's smallest of {steps} steps per side")
    print(f"{'op':58s} {'ours':>8s} {'transformers':>13s}")
    label = "matmuls (mm, addmm, addmm_, bmm)"
    print(f"{label:58s} {sum(ours.get(k, 0) for k in MATMULS):8.3f} {sum(ref.get(k, 0) for k in MATMULS):13.3f}")
    keys = sorted(set(ours) | set(ref), key=lambda k: -(ours.get(k, 0) + ref.get(k, 0)))
    for key in [k for k in keys if k not in MATMULS][:16]:
        print(f"{key[:58]:58s} {ours.get(key, 0):8.3f} {ref.get(key, 0):13.3f}")
    print(f"{'total of all ops':58s} {sum(ours.values()):8.3f} {sum(ref.values()):13.3f}")


def summary(row: Row) -> str:
    ours_wall, ref_wall = [w for w, _ in row.ours], [w for w, _ in row.ref]
    ratio, low, high = median_interval([r / o for o, r in zip(ours_wall, ref_wall, strict=True)])
    lines = [
        f"[{row.label}] load average {row.load[0]:.2f} -> {row.load[1]:.2f}",
        f"  ours (training_runner.core)  : best {row.tokens / min(ours_wall):7.0f} tokens/s, "
        f"median {row.tokens / statistics.median(ours_wall):7.0f}",
        f"  transformers LlamaForCausalLM: best {row.tokens / min(ref_wall):7.0f} tokens/s, "
        f"median {row.tokens / statistics.median(ref_wall):7.0f}",
        f"  ratio ours / transformers, wall time: {ratio:.3f}x median of {len(ours_wall)} paired rounds "
        f"(95% interval {low:.3f}-{high:.3f}); {min(ref_wall) / min(ours_wall):.3f}x best steps",
    ]
    if row.cpu_comparable:
        ours_cpu, ref_cpu = [c for _, c in row.ours], [c for _, c in row.ref]
        ratio, low, high = median_interval([r / o for o, r in zip(ours_cpu, ref_cpu, strict=True)])
        lines.append(
            f"  ratio ours / transformers, CPU time: {ratio:.3f}x median (95% interval {low:.3f}-{high:.3f}); "
            f"median CPU s/step ours {statistics.median(ours_cpu):.3f}, transformers {statistics.median(ref_cpu):.3f}"
        )
    lines.append(
        "  peak RSS during a step: "
        + "; ".join(f"{name} {peak:.0f} MB (+{rise:.0f})" for name, (peak, rise) in row.rss.items())
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
