"""What a recipe trains on and how it is scored.

An ``Objective`` pairs a training set and a validation set (anything with ``len`` and
``batch(indices, generator)`` returning tensors with a ``labels`` entry, ``-100`` = not scored)
with a loss function returning summed statistics. Recipes compose one; the ``Trainer`` drives it.

Datasets here:
- ``CausalWindows``: packed next-token windows (pretraining, LoRA on plain text);
- ``MaskedWindows``: packed windows with BERT masking (15 % of tokens; 80 % mask, 10 % random, 10 % kept);
- ``ChatExamples``: conversations with the loss only on assistant tokens (SFT);
- ``LabeledTexts``: texts with one class label each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import torch
import torch.nn.functional as F

from .config import MLMSection
from .data import PackedWindows, ShuffledBatches, eval_batches, pad_sequences
from .distributed import DistInfo
from .tokenizer import Tokenizer

IGNORE = -100


@dataclass
class LossParts:
    loss_sum: torch.Tensor  # summed cross-entropy (float32) over the scored targets
    count: torch.Tensor  # number of scored targets
    extras: dict[str, torch.Tensor] = field(default_factory=dict)  # summed side statistics ("bytes", "correct")


class Dataset(Protocol):
    def __len__(self) -> int: ...

    def batch(self, indices: list[int], generator: torch.Generator | None) -> dict[str, torch.Tensor]: ...


LossFn = Callable[[torch.nn.Module, dict[str, torch.Tensor]], LossParts]


class Objective:
    """A training set read in deterministic shuffled batches, a validation set, and a loss."""

    def __init__(
        self,
        train: Dataset,
        validation: Dataset,
        loss: LossFn,
        *,
        batch_size: int,
        seed: int,
        dist: DistInfo,
        max_eval_batches: int,
        uses_generator: bool = False,
    ) -> None:
        self.train, self.validation, self.loss = train, validation, loss
        self.batch_size, self.dist, self.max_eval_batches = batch_size, dist, max_eval_batches
        self.sampler = ShuffledBatches(len(train), batch_size, seed=seed, rank=dist.rank, world_size=dist.world_size)
        # Per-rank stream for random choices made while batching (MLM masking); checkpointed.
        self.generator = torch.Generator().manual_seed(seed + 7919 * (dist.rank + 1)) if uses_generator else None

    def train_batch(self) -> dict[str, torch.Tensor]:
        return self.train.batch(self.sampler.next(), self.generator)

    def eval_batches(self) -> Iterator[dict[str, torch.Tensor]]:
        for indices in eval_batches(
            len(self.validation),
            self.batch_size,
            max_batches=self.max_eval_batches,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        ):
            yield self.validation.batch(indices, None)

    def state_dict(self) -> dict[str, int]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)


# ----------------------------------------------------------------------------- losses


def summed_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Σ −log p(label) in float32 over entries whose label is not -100."""
    return F.cross_entropy(logits.flatten(0, -2).float(), labels.flatten(), ignore_index=IGNORE, reduction="sum")


LOGITS_PER_CHUNK = 1 << 25  # float32 logits held at once by linear_cross_entropy (128 MiB)
CPU_LOGITS_PER_CHUNK = 1 << 21  # on CPUs, 8 MiB: a chunk's logits stay in cache between its passes


def _rows_per_chunk(hidden: torch.Tensor, vocab_size: int) -> int:
    budget = LOGITS_PER_CHUNK if hidden.device.type != "cpu" else min(LOGITS_PER_CHUNK, CPU_LOGITS_PER_CHUNK)
    return max(1, budget // vocab_size)


def _chunked_cross_entropy(hidden, weight, labels, *, with_grads: bool):
    """Σ −log softmax(h Wᵀ)[label] over rows, a chunk of rows at a time; optionally the gradients.

    Per chunk: one matmul for the logits, one fused log-softmax, and for the gradients the softmax
    written over it in place, then two matmuls (the weight's accumulated inside the matmul).
    """
    rows = _rows_per_chunk(hidden, weight.shape[0])
    scored_all = labels != IGNORE
    # On CPUs, checking costs nothing and saves a pass per chunk when every target is scored.
    mask_rows = hidden.device.type != "cpu" or not bool(scored_all.all())
    total = torch.zeros((), dtype=torch.float32, device=hidden.device)
    grad_hidden = torch.empty_like(hidden) if with_grads else None
    grad_weight = torch.zeros_like(weight, dtype=torch.float32) if with_grads else None
    for start in range(0, hidden.shape[0], rows):
        h, y = hidden[start : start + rows], labels[start : start + rows]  # (n, C), (n,)
        scored, target = scored_all[start : start + rows], y.clamp(min=0)
        logprobs = torch.log_softmax((h @ weight.t()).float(), dim=-1)  # (n, V)
        picked = logprobs.gather(1, target[:, None]).squeeze(1)  # (n,)
        total -= (picked.masked_fill_(~scored, 0.0) if mask_rows else picked).sum()
        if with_grads:  # d loss / d logits = softmax − one-hot, on scored rows only
            grad = logprobs.exp_()  # the softmax, written over the log-probabilities
            grad[torch.arange(len(y), device=y.device), target] -= 1.0
            if mask_rows:
                grad.masked_fill_(~scored[:, None], 0.0)
            grad = grad.to(h.dtype)
            grad_hidden[start : start + rows] = grad @ weight  # (n, C)
            if grad_weight.dtype == grad.dtype == h.dtype:
                grad_weight.addmm_(grad.t(), h)  # (V, C), summed inside the matmul: no extra pass
            else:
                grad_weight += grad.t() @ h
    return total, grad_hidden, grad_weight


class _LinearCrossEntropy(torch.autograd.Function):
    """The gradients are formed chunk by chunk during the forward pass and only scaled in backward."""

    @staticmethod
    def forward(ctx, hidden, weight, labels):
        total, grad_hidden, grad_weight = _chunked_cross_entropy(hidden, weight, labels, with_grads=True)
        ctx.save_for_backward(grad_hidden, grad_weight.to(weight.dtype))
        return total

    @staticmethod
    def backward(ctx, grad_total):
        grad_hidden, grad_weight = ctx.saved_tensors
        return grad_hidden * grad_total, grad_weight * grad_total, None


def linear_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``summed_cross_entropy(hidden @ weight.T, labels)`` without holding all (N, V) logits.

    The same three matmuls as the plain path, fewer passes over the logits, and a peak of one
    chunk of logits in memory (large vocabularies on GPU). ``hidden`` (N, C), ``weight`` (V, C).
    """
    if torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        return _LinearCrossEntropy.apply(hidden, weight, labels)
    return _chunked_cross_entropy(hidden, weight, labels, with_grads=False)[0]


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model itself under DDP (``.module``) and ``torch.compile`` (``._orig_mod``) wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)


def causal_lm_loss(token_bytes: torch.Tensor | None) -> LossFn:
    """Next-token loss; with ``token_bytes`` (V,) it also sums the UTF-8 bytes of the targets (for bpb)."""

    def loss(model, batch):
        labels = batch["labels"]  # (B, T), already shifted: labels[t] follows input_ids[t]
        head = unwrap(model).lm_head
        if type(head) is torch.nn.Linear:  # a plain output head: apply it inside the loss
            hidden = model(batch["input_ids"], batch.get("attention_mask"), hidden_only=True)  # (B, T, C)
            loss_sum = linear_cross_entropy(hidden.flatten(0, 1), head.weight, labels.flatten())
        else:  # an adapted head (LoRA) computes its own logits
            loss_sum = summed_cross_entropy(model(batch["input_ids"], batch.get("attention_mask")), labels)
        scored = labels != IGNORE
        extras = {}
        if token_bytes is not None:
            table = token_bytes.to(labels.device)
            extras["bytes"] = table[labels.clamp(min=0)][scored].sum()
        return LossParts(loss_sum, scored.sum(), extras)

    return loss


def masked_lm_loss(model, batch) -> LossParts:
    logits = model(batch["input_ids"], batch.get("attention_mask"))  # (B, T, V)
    labels = batch["labels"]
    return LossParts(summed_cross_entropy(logits, labels), (labels != IGNORE).sum())


def classification_loss(model, batch) -> LossParts:
    logits = model(batch["input_ids"], batch["attention_mask"])  # (B, num_labels)
    labels = batch["labels"]  # (B,)
    correct = (logits.argmax(-1) == labels).sum()
    return LossParts(summed_cross_entropy(logits, labels), labels.new_tensor(labels.numel()), {"correct": correct})


# ----------------------------------------------------------------------------- datasets


class CausalWindows:
    """Packed windows of T + 1 tokens: inputs are the first T, labels the last T."""

    def __init__(self, windows: PackedWindows) -> None:
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def batch(self, indices, generator=None):
        w = self.windows.batch(indices)  # (B, T + 1)
        return {"input_ids": w[:, :-1], "labels": w[:, 1:]}


def mask_tokens(
    ids: torch.Tensor,
    *,
    mask_id: int,
    vocab_size: int,
    special_ids: torch.Tensor,
    cfg: MLMSection,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking of ``ids`` (B, T): (inputs, labels), labels -100 except at the chosen positions.

    Each non-special token is chosen with ``mask_prob``; a chosen token becomes the mask token with
    ``mask_token_prob``, a uniformly random token with ``random_token_prob``, and stays otherwise.
    """
    chosen = (torch.rand(ids.shape, generator=generator) < cfg.mask_prob) & ~torch.isin(ids, special_ids)
    labels = torch.where(chosen, ids, IGNORE)
    action = torch.rand(ids.shape, generator=generator)
    random_ids = torch.randint(vocab_size, ids.shape, generator=generator)
    to_mask = chosen & (action < cfg.mask_token_prob)
    to_random = chosen & (action >= cfg.mask_token_prob) & (action < cfg.mask_token_prob + cfg.random_token_prob)
    inputs = torch.where(to_mask, mask_id, ids)
    inputs = torch.where(to_random, random_ids, inputs)
    return inputs, labels


class MaskedWindows:
    """Packed windows of T − 1 tokens behind a [CLS] token, masked anew each time they are read.

    Validation batches (no generator) use a mask seeded by the item index: the same every time.
    """

    def __init__(self, windows: PackedWindows, tokenizer: Tokenizer, cfg: MLMSection) -> None:
        if tokenizer.mask_token_id is None or tokenizer.cls_token_id is None:
            raise ValueError("masked-LM training needs a tokenizer with mask and cls tokens")
        self.windows, self.cfg, self.tokenizer = windows, cfg, tokenizer
        self.special_ids = torch.tensor(sorted(tokenizer.special_ids), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.windows)

    def _mask(self, ids: torch.Tensor, generator: torch.Generator):
        return mask_tokens(
            ids,
            mask_id=self.tokenizer.mask_token_id,
            vocab_size=self.tokenizer.vocab_size,
            special_ids=self.special_ids,
            cfg=self.cfg,
            generator=generator,
        )

    def batch(self, indices, generator=None):
        w = self.windows.batch(indices)  # (B, T - 1)
        ids = torch.cat([torch.full((len(indices), 1), self.tokenizer.cls_token_id), w], dim=1)  # (B, T)
        if generator is not None:
            inputs, labels = self._mask(ids, generator)
        else:
            rows = [
                self._mask(row[None], torch.Generator().manual_seed(i)) for row, i in zip(ids, indices, strict=True)
            ]
            inputs, labels = torch.cat([r[0] for r in rows]), torch.cat([r[1] for r in rows])
        return {"input_ids": inputs, "labels": labels}


def chat_segments(messages: list[dict[str, str]], tokenizer: Tokenizer) -> list[tuple[str, bool]]:
    """The rendered conversation cut into (text, trained) pieces: assistant replies are trained.

    Uses prefix renders of the chat template, so whatever the template adds around a reply (the
    ``<|im_start|>assistant`` header, the end marker) falls on the right side.
    """
    pieces, done = [], ""
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(messages[:i], add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages[: i + 1])
        if not (prompt.startswith(done) and full.startswith(prompt)):
            raise ValueError("the chat template does not render conversations as growing prefixes")
        pieces += [(prompt[len(done) :], False), (full[len(prompt) :], True)]
        done = full
    rest = tokenizer.apply_chat_template(messages)[len(done) :]
    if rest:
        pieces.append((rest, False))
    return [(text, trained) for text, trained in pieces if text]


def chat_example(messages: list[dict[str, str]], tokenizer: Tokenizer, max_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (-100 on prompt tokens) of one conversation, cut to ``max_len`` + 1 tokens."""
    ids, labels = [], []
    for text, trained in chat_segments(messages, tokenizer):
        piece = tokenizer.encode(text)
        ids += piece
        labels += piece if trained else [IGNORE] * len(piece)
    return ids[: max_len + 1], labels[: max_len + 1]


class ChatExamples:
    """Tokenized conversations, right-padded per batch; inputs and labels shifted by one."""

    def __init__(self, examples: list[tuple[list[int], list[int]]], pad_id: int) -> None:
        self.examples = [(ids, labels) for ids, labels in examples if any(x != IGNORE for x in labels[1:])]
        self.pad_id = pad_id

    def __len__(self) -> int:
        return len(self.examples)

    def batch(self, indices, generator=None):
        chosen = [self.examples[i] for i in indices]
        inputs = [ids[:-1] for ids, _ in chosen]
        return {
            "input_ids": pad_sequences(inputs, self.pad_id),
            "attention_mask": pad_sequences([[1] * len(x) for x in inputs], 0),
            "labels": pad_sequences([labels[1:] for _, labels in chosen], self.pad_id, fill=IGNORE),
        }


class LabeledTexts:
    """Token ids (with [CLS] … [SEP]) and one label per text, right-padded per batch."""

    def __init__(self, examples: list[tuple[list[int], int]], pad_id: int) -> None:
        self.examples, self.pad_id = examples, pad_id

    def __len__(self) -> int:
        return len(self.examples)

    def batch(self, indices, generator=None):
        chosen = [self.examples[i] for i in indices]
        return {
            "input_ids": pad_sequences([ids for ids, _ in chosen], self.pad_id),
            "attention_mask": pad_sequences([[1] * len(ids) for ids, _ in chosen], 0),
            "labels": torch.tensor([label for _, label in chosen], dtype=torch.long),
        }
