"""The training machinery every recipe composes.

``Trainer`` owns the optimizer (AdamW, decoupled weight decay), the schedule (linear warm-up, cosine
decay), precision (bf16 autocast on GPU), optional ``torch.compile``, DDP, gradient accumulation
and clipping, validation, the metrics stream, and checkpoints. What is trained, on which batches
and with which loss comes from an ``Objective`` (``objectives.py``).

Checkpoints are a directory of safetensors and JSON, never pickle:

- ``trainable.safetensors``: every trainable parameter (frozen ones come back from the model source);
- ``optimizer.safetensors`` + the param groups in ``trainer_state.json``;
- ``trainer_state.json``: step, scheduler state, data position;
- ``rng-rank{r}.safetensors``: torch CPU/CUDA generator states and the objective's own generator.

Restoring all of them makes a resumed CPU run bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .config import OptimSection, TrainConfig
from .distributed import DistInfo, all_reduce_sum, any_rank, barrier
from .objectives import Objective

# Dense bf16 peak FLOP/s by device-name fragment (first match wins), for MFU.
PEAK_BF16_FLOPS = (
    ("H200", 989e12),
    ("H100 PCIe", 756e12),
    ("H100", 989e12),
    ("A100", 312e12),
    ("L40S", 362e12),
    ("L4", 121e12),
    ("A10", 125e12),
    ("RTX 4090", 165e12),
    ("RTX 3090", 71e12),
)

MetricsCallback = Callable[[dict], None]


def peak_flops(device: torch.device, override: float | None) -> float | None:
    if override is not None:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((flops for fragment, flops in PEAK_BF16_FLOPS if fragment in name), None)


def lr_factor(step: int, *, warmup_steps: int, max_steps: int, min_lr_ratio: float) -> float:
    """Multiplier of the peak learning rate at 0-based ``step``: linear warm-up, then cosine decay."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def build_optimizer(model: nn.Module, cfg: OptimSection, device: torch.device) -> tuple[torch.optim.AdamW, list[str]]:
    """AdamW (the fused kernel, on CPU and CUDA alike) over the trainable parameters; norms, biases
    and embeddings get no weight decay.

    Returns the optimizer and the parameter names in the optimizer's own order (for checkpoints).
    """
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay, no_decay = [], []
    for name, param in model.named_parameters():  # a tied weight appears once
        if param.requires_grad:
            (no_decay if param.ndim < 2 or id(param) in embeddings else decay).append((name, param))
    groups = [
        {"params": [p for _, p in decay], "weight_decay": cfg.weight_decay},
        {"params": [p for _, p in no_decay], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, fused=True)
    return optimizer, [n for n, _ in decay] + [n for n, _ in no_decay]


@dataclass
class FitResult:
    steps: int
    stopped: bool
    checkpoint_dir: Path | None
    metrics: dict[str, float] = field(default_factory=dict)


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        model: nn.Module,
        objective: Objective,
        *,
        dist: DistInfo,
        output_dir: Path,
        on_metrics: MetricsCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.cfg, self.dist, self.objective, self.output_dir = cfg, dist, objective, output_dir
        self.model = model.to(dist.device)
        self.on_metrics, self.should_stop = on_metrics, should_stop
        train = cfg.train
        self.use_bf16 = train.precision == "bf16" or (train.precision == "auto" and dist.device.type == "cuda")
        if dist.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.eval_model = torch.compile(self.model) if train.compile else self.model
        self.forward_model = self.eval_model
        if dist.enabled:
            device_ids = [dist.local_rank] if dist.device.type == "cuda" else None
            self.forward_model = DistributedDataParallel(self.eval_model, device_ids=device_ids)
        self.optimizer, self.param_names = build_optimizer(self.model, cfg.optim, dist.device)
        schedule = {
            "warmup_steps": cfg.optim.warmup_steps,
            "max_steps": train.max_steps,
            "min_lr_ratio": cfg.optim.min_lr_ratio,
        }
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, **schedule))
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.peak_flops = peak_flops(dist.device, train.peak_flops)
        self.step = 0
        self.tokens_seen = 0
        self.started = time.perf_counter()

    # -- one optimizer step -------------------------------------------------------------------------

    def _autocast(self):
        if not self.use_bf16:
            return nullcontext()
        return torch.autocast(self.dist.device.type, dtype=torch.bfloat16)

    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v.to(self.dist.device, non_blocking=True) for k, v in batch.items()}

    @staticmethod
    def _tokens(batch: dict[str, torch.Tensor]) -> int:
        mask = batch.get("attention_mask")
        return int(mask.sum()) if mask is not None else batch["input_ids"].numel()

    def train_step(self) -> dict:
        """One optimizer step over ``grad_accum_steps`` micro-batches; returns its metrics."""
        started = time.perf_counter()
        self.forward_model.train()
        accum = self.cfg.train.grad_accum_steps
        micro = [self.objective.train_batch() for _ in range(accum)]  # on the CPU: counting costs no sync
        # Normalise by the targets of the whole step on all ranks, so accumulation and data
        # parallelism give the same gradient as one large batch. DDP averages over ranks: × world.
        local = torch.tensor(
            [float(sum(int((b["labels"] != -100).sum()) for b in micro)), float(sum(map(self._tokens, micro)))],
            device=self.dist.device,
        )
        micro = [self._to_device(b) for b in micro]
        targets, tokens = all_reduce_sum(local, self.dist).tolist()
        scale = self.dist.world_size / max(targets, 1.0)
        loss_sum = torch.zeros((), device=self.dist.device)
        for i, batch in enumerate(micro):
            last = i == accum - 1
            no_sync = self.forward_model.no_sync() if self.dist.enabled and not last else nullcontext()
            with no_sync:
                with self._autocast():
                    parts = self.objective.loss(self.forward_model, batch)
                (parts.loss_sum * scale).backward()
            loss_sum += parts.loss_sum.detach()
        max_norm = self.cfg.optim.grad_clip or float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(self.trainable, max_norm)
        lr = self.optimizer.param_groups[0]["lr"]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        loss = all_reduce_sum(loss_sum, self.dist).item() / max(targets, 1.0)
        elapsed = time.perf_counter() - started  # .item() above waited for the device
        self.tokens_seen += int(tokens)
        metrics = {
            "event": "train",
            "step": self.step,
            "loss": loss,
            "lr": lr,
            "grad_norm": float(grad_norm),
            "tokens_per_s": tokens / elapsed,
            "tokens_seen": self.tokens_seen,
            "epoch": self.objective.state_dict()["epoch"],
            "elapsed_s": time.perf_counter() - self.started,
        }
        if self.peak_flops:
            flops = self.model.flops_per_token(micro[0]["input_ids"].shape[1]) * tokens / elapsed
            metrics["mfu"] = flops / (self.peak_flops * self.dist.world_size)
        return metrics

    # -- validation ---------------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Validation loss (mean over targets), bits per byte and accuracy where the objective has them."""
        self.eval_model.eval()
        totals: dict[str, torch.Tensor] = {}
        for batch in self.objective.eval_batches():
            with self._autocast():
                parts = self.objective.loss(self.eval_model, self._to_device(batch))
            for key, value in {"loss": parts.loss_sum, "count": parts.count, **parts.extras}.items():
                totals[key] = totals.get(key, 0) + value.detach().double()
        keys = ["loss", "count", *sorted(k for k in totals if k not in ("loss", "count"))]
        vector = torch.stack([torch.as_tensor(totals.get(k, 0.0), dtype=torch.float64) for k in keys])
        sums = dict(zip(keys, all_reduce_sum(vector.to(self.dist.device), self.dist).tolist(), strict=True))
        metrics = {"event": "eval", "step": self.step}
        if sums["count"]:
            metrics["val_loss"] = sums["loss"] / sums["count"]
        if sums.get("bytes"):
            metrics["val_bpb"] = sums["loss"] / (math.log(2) * sums["bytes"])
        if "correct" in sums and sums["count"]:
            metrics["val_accuracy"] = sums["correct"] / sums["count"]
        return metrics

    # -- the loop -----------------------------------------------------------------------------------

    def emit(self, metrics: dict) -> None:
        if not self.dist.is_main:
            return
        with (self.output_dir / "metrics.jsonl").open("a") as log:
            log.write(json.dumps(metrics) + "\n")
        if self.on_metrics is not None:
            self.on_metrics(metrics)
        interval = self.cfg.train.log_interval
        if interval and (metrics["event"] == "eval" or metrics["step"] % interval == 0):
            shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
            print(shown, flush=True)

    def fit(self, save_checkpoint: Callable[[Path], None]) -> FitResult:
        """Train to ``max_steps``, or until ``should_stop`` says so (then checkpoint and return)."""
        train = self.cfg.train
        last_train: dict = {}
        last_eval: dict = {}
        checkpoint = None
        while self.step < train.max_steps:
            if any_rank(bool(self.should_stop and self.should_stop()), self.dist):
                checkpoint = self.checkpoint(save_checkpoint)
                return FitResult(self.step, True, checkpoint, _final(last_train, last_eval))
            last_train = self.train_step()
            self.emit(last_train)
            if train.eval_interval and self.step % train.eval_interval == 0 and self.step < train.max_steps:
                last_eval = self.evaluate()
                self.emit(last_eval)
            if train.checkpoint_interval and self.step % train.checkpoint_interval == 0:
                checkpoint = self.checkpoint(save_checkpoint)
        last_eval = self.evaluate()
        self.emit(last_eval)
        return FitResult(self.step, False, checkpoint, _final(last_train, last_eval))

    def checkpoint(self, save_checkpoint: Callable[[Path], None]) -> Path:
        """``<output>/checkpoints/step-NNNNNN`` via the recipe's ``save_checkpoint``; old ones rotated out."""
        root = self.output_dir / "checkpoints"
        path = root / f"step-{self.step:06d}"
        save_checkpoint(path)
        if self.dist.is_main:
            for old in sorted(root.glob("step-*"))[: -self.cfg.train.keep_checkpoints]:
                shutil.rmtree(old)
        barrier(self.dist)
        return path

    # -- checkpoint state -------------------------------------------------------------------------

    def _rng_state(self) -> dict[str, torch.Tensor]:
        state = {"torch_cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                state[f"cuda_{i}"] = s
        if self.objective.generator is not None:
            state["objective"] = self.objective.generator.get_state()
        return state

    def save_state(self, path: Path) -> None:
        """Write this trainer's part of a checkpoint into ``path`` (rank 0 writes the shared files)."""
        path.mkdir(parents=True, exist_ok=True)
        barrier(self.dist)
        save_file(self._rng_state(), path / f"rng-rank{self.dist.rank}.safetensors")
        if not self.dist.is_main:
            return
        params = {n: p.detach().cpu().contiguous() for n, p in self.model.named_parameters() if p.requires_grad}
        save_file(params, path / "trainable.safetensors")
        optim = self.optimizer.state_dict()
        tensors = {}
        for index, values in optim["state"].items():
            for key, value in values.items():
                tensors[f"{self.param_names[index]}::{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
        save_file(tensors, path / "optimizer.safetensors")
        state = {
            "step": self.step,
            "tokens_seen": self.tokens_seen,
            "world_size": self.dist.world_size,
            "scheduler": self.scheduler.state_dict(),  # plain numbers (the lambda itself is stored as null)
            "param_groups": optim["param_groups"],
            "data": self.objective.state_dict(),
        }
        (path / "trainer_state.json").write_text(json.dumps(state, indent=1) + "\n")

    def load_state(self, path: Path) -> None:
        state = json.loads((path / "trainer_state.json").read_text())
        if state["world_size"] != self.dist.world_size:
            raise ValueError(f"checkpoint was written by {state['world_size']} processes, not {self.dist.world_size}")
        params = dict(self.model.named_parameters())
        with torch.no_grad():
            for name, tensor in load_file(path / "trainable.safetensors").items():
                params[name].copy_(tensor)
        optim_state: dict = {"state": {}, "param_groups": state["param_groups"]}
        for group in optim_state["param_groups"]:
            group["betas"] = tuple(group["betas"])
        index_of = {name: i for i, name in enumerate(self.param_names)}
        for key, tensor in load_file(path / "optimizer.safetensors").items():
            name, _, slot = key.partition("::")
            optim_state["state"].setdefault(index_of[name], {})[slot] = tensor
        self.optimizer.load_state_dict(optim_state)
        self.scheduler.load_state_dict(state["scheduler"])
        self.objective.load_state_dict(state["data"])
        rng = load_file(path / f"rng-rank{self.dist.rank}.safetensors")
        torch.set_rng_state(rng["torch_cpu"])
        if torch.cuda.is_available():
            torch.cuda.set_rng_state_all([rng[f"cuda_{i}"] for i in range(torch.cuda.device_count())])
        if self.objective.generator is not None:
            self.objective.generator.set_state(rng["objective"])
        self.step, self.tokens_seen = state["step"], state["tokens_seen"]


def _final(last_train: dict, last_eval: dict) -> dict[str, float]:
    """The numbers a run ends with: last training loss and step, plus the last validation."""
    final = {k: last_train[k] for k in ("loss", "tokens_seen") if k in last_train}
    final.update({k: v for k, v in last_eval.items() if k.startswith("val_")})
    return final
