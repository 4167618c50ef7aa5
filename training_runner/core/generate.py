"""Text generation with the KV cache: greedy, temperature, top-k and top-p (nucleus) sampling, and
a repetition penalty (``beam_search.py`` holds beam search).

``generate`` returns prompt plus continuation, (B, T + new); ``stream_generate`` yields the next
token ids (a (B,) tensor) one step at a time, for the playground's streaming output. The prompt is
run once to fill the KV cache, then each step feeds a single token.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from .decoder import Decoder


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Next token ids (B,) from last-position logits (B, V); ``temperature == 0`` is greedy."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        # Drop a token when the more likely ones already reach top_p; the most likely always stays.
        drop = probs.cumsum(dim=-1) - probs >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)


def apply_repetition_penalty(scores: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """Make every token already in ``seen`` (B, S) less likely in ``scores`` (B, V).

    A positive score is divided by ``penalty``, a negative one multiplied by it (CTRL's rule, as
    ``transformers`` applies it), so ``penalty > 1`` always lowers the token's probability.
    """
    if penalty == 1.0:
        return scores
    picked = scores.gather(-1, seen)  # (B, S)
    picked = torch.where(picked < 0, picked * penalty, picked / penalty)
    return scores.scatter(-1, seen, picked)


def _as_batch(input_ids, device) -> torch.Tensor:
    ids = torch.as_tensor(input_ids, dtype=torch.long, device=device)
    return ids[None] if ids.ndim == 1 else ids  # (B, T)


def generate(
    model: Decoder,
    input_ids: torch.Tensor | Sequence[int],
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
    eos_token_id: int | Sequence[int] | None = None,
    generator: torch.Generator | None = None,
    attention_mask: torch.Tensor | None = None,
    stream: bool = False,
) -> torch.Tensor | Iterator[torch.Tensor]:
    """Prompt plus up to ``max_new_tokens`` generated tokens, (B, T + n); greedy when temperature is 0.

    ``input_ids`` is (B, T) or a single prompt (T,); left-pad batched prompts and pass their
    ``attention_mask``. Generation ends when every row has produced one of ``eos_token_id`` (a
    finished row is filled with the first eos id) or at the model's context length.
    ``repetition_penalty`` (> 1 discourages) applies to every token of the prompt and of the
    continuation, before the temperature.
    ``generator`` (on the model's device) makes sampling reproducible. With ``stream=True`` the
    result is instead an iterator of (B,) next-token tensors, one per step (see ``stream_generate``).
    """
    ids = _as_batch(input_ids, model.embed_tokens.weight.device)
    eos = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or [])

    def choose(logits: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
        logits = apply_repetition_penalty(logits, seen, repetition_penalty)
        return sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)

    steps = _decode(model, ids, attention_mask, max_new_tokens, choose, eos)
    if stream:
        return steps
    tokens = list(steps)
    return torch.cat([ids, torch.stack(tokens, dim=1)], dim=1) if tokens else ids


def stream_generate(model: Decoder, input_ids: torch.Tensor | Sequence[int], **options) -> Iterator[torch.Tensor]:
    """Yield (B,) next-token ids step by step; takes ``generate``'s keyword arguments."""
    return generate(model, input_ids, stream=True, **options)


@torch.no_grad()
def _decode(model: Decoder, ids, mask, max_new_tokens: int, choose, eos: list[int]) -> Iterator[torch.Tensor]:
    """The prompt fills the KV cache once; each later step feeds one token per row."""
    B, T = ids.shape
    budget = min(max_new_tokens, model.config.max_position_embeddings - T)
    if budget <= 0:
        return
    eos_ids = torch.tensor(eos, dtype=torch.long, device=ids.device)
    mask = mask.to(ids.device) if mask is not None else None
    was_training = model.training
    model.eval()
    try:
        cache = model.new_kv_cache(B, T + budget)
        logits = model(ids, mask, kv_cache=cache, last_only=True)[:, -1]  # (B, V)
        finished = torch.zeros(B, dtype=torch.bool, device=ids.device)
        seen = ids  # (B, T + step): what the repetition penalty looks at
        for step in range(budget):
            token = choose(logits, seen)  # (B,)
            if eos:
                token = torch.where(finished, eos_ids[0], token)
                finished |= torch.isin(token, eos_ids)
            yield token
            if step == budget - 1 or bool(finished.all()):
                return
            seen = torch.cat([seen, token[:, None]], dim=1)
            if mask is not None:
                mask = torch.cat([mask, mask.new_ones(B, 1)], dim=1)
            logits = model(token[:, None], mask, kv_cache=cache)[:, -1]
    finally:
        model.train(was_training)
